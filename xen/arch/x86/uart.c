/* uart.c (hypervisor): 16550 serial ports, polled, 115200 8N1: COM1 for the log, COM2 for the host channel. */
#include "env.h"
#include "x86.h"
#include "uart.h"

/* 16550 registers (offsets from the base port). */
#define UART_DATA 0
#define UART_IER  1         /* interrupt enable */
#define UART_FCR  2         /* FIFO control */
#define UART_LCR  3         /* line control; bit 7 selects the divisor latch */
#define UART_MCR  4
#define UART_LSR  5         /* line status */
#define UART_SCR  7         /* scratch: any value written reads back on a real 16550 */
#define UART_DLL  0         /* divisor latch, with LCR.DLAB */
#define UART_DLM  1
#define LCR_8N1   0x03
#define LCR_DLAB  0x80
#define FCR_ENABLE_CLEAR 0x07
#define FCR_TRIGGER_14   0xc0   /* QEMU hands a port as many bytes at once as its trigger level */
#define MCR_DTR_RTS 0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20
#define LSR_TX_IDLE    0x40     /* holding register and shift register both empty */
#define BAUD_DIVISOR_115200 1   /* 115200 = 1.8432 MHz / 16 / 1 */

static void setup(uint16_t base, uint8_t fcr)
{
    outb(base + UART_IER, 0);
    outb(base + UART_LCR, LCR_DLAB);
    outb(base + UART_DLL, BAUD_DIVISOR_115200);
    outb(base + UART_DLM, 0);
    outb(base + UART_LCR, LCR_8N1);
    outb(base + UART_FCR, fcr);
    outb(base + UART_MCR, MCR_DTR_RTS);
}

void uart_init(void)
{
    setup(COM1_BASE, FCR_ENABLE_CLEAR);
}

/*
 * A port with nothing behind it reads all ones (QEMU and Bochs without the
 * port configured): its line status would say "data ready" forever.
 */
bool uart_open(uint16_t base)
{
    static const uint8_t patterns[] = { 0x5a, 0xa5 };

    for (unsigned i = 0; i < sizeof(patterns); i++) {
        outb(base + UART_SCR, patterns[i]);
        if (inb(base + UART_SCR) != patterns[i])
            return false;
    }
    setup(base, FCR_ENABLE_CLEAR | FCR_TRIGGER_14);
    return inb(base + UART_LSR) != 0xff;
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

int uart_read(uint16_t base)
{
    if (!(inb(base + UART_LSR) & LSR_DATA_READY))
        return -1;
    return inb(base + UART_DATA);
}

bool uart_try_write(uint16_t base, uint8_t c)
{
    if (!(inb(base + UART_LSR) & LSR_THR_EMPTY))
        return false;
    outb(base + UART_DATA, c);
    return true;
}
