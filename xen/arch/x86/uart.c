/* uart.c (hypervisor): the 16550 serial port on COM1, polled, 115200 8N1. */
#include "env.h"
#include "x86.h"
#include "uart.h"

#define COM1_BASE 0x3f8
/* 16550 registers (offsets from the base port). */
#define UART_DATA 0
#define UART_IER  1         /* interrupt enable */
#define UART_FCR  2         /* FIFO control */
#define UART_LCR  3         /* line control; bit 7 selects the divisor latch */
#define UART_MCR  4
#define UART_LSR  5         /* line status */
#define UART_DLL  0         /* divisor latch, with LCR.DLAB */
#define UART_DLM  1
#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS 0x03
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE   0x40     /* holding register and shift register both empty */
#define BAUD_DIVISOR_115200 1   /* 115200 = 1.8432 MHz / 16 / 1 */

void uart_init(void)
{
    outb(COM1_BASE + UART_IER, 0);
    outb(COM1_BASE + UART_LCR, LCR_DLAB);
    outb(COM1_BASE + UART_DLL, BAUD_DIVISOR_115200);
    outb(COM1_BASE + UART_DLM, 0);
    outb(COM1_BASE + UART_LCR, LCR_8N1);
    outb(COM1_BASE + UART_FCR, FCR_ENABLE_CLEAR);
    outb(COM1_BASE + UART_MCR, MCR_DTR_RTS);
}

void uart_putc(char c)
{
    while (!(inb(COM1_BASE + UART_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    outb(COM1_BASE + UART_DATA, (uint8_t)c);
}

void uart_flush(void)
{
    while (!(inb(COM1_BASE + UART_LSR) & LSR_TX_IDLE))
        cpu_relax();
}

#define LSR_DATA_READY 0x01

int uart_getc(void)
{
    if (!(inb(COM1_BASE + UART_LSR) & LSR_DATA_READY))
        return -1;
    return inb(COM1_BASE + UART_DATA);
}
