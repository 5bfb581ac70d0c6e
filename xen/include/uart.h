/* uart.h (hypervisor): the serial line everything is logged to (COM1), and COM2 for the host channel. */
#ifndef WISP_UART_H
#define WISP_UART_H

#include "env.h"

#define COM1_BASE 0x3f8
#define COM2_BASE 0x2f8

void uart_init(void);
void uart_putc(char c);
/* Returns once every byte has left the wire (before the machine is switched off). */
void uart_flush(void);

/* Another port: false when no 16550 answers at base (else it is set up, 115200 8N1). */
bool uart_open(uint16_t base);
/* The next byte received at base, or -1. */
int uart_read(uint16_t base);
/* Hands c to the port unless its transmitter is still busy (false: try later). */
bool uart_try_write(uint16_t base, uint8_t c);

#endif
