/* uart.h (hypervisor): the serial line everything is logged to. */
#ifndef WISP_UART_H
#define WISP_UART_H

void uart_init(void);
void uart_putc(char c);
/* Returns once every byte has left the wire (before the machine is switched off). */
void uart_flush(void);
/* The next received byte, or -1 when none is waiting (polled; no interrupts). */
int uart_getc(void);

#endif
