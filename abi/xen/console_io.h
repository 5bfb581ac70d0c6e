/* console_io.h (hypervisor, guest): __HYPERVISOR_console_io(cmd, count, buffer) commands. */
#ifndef WISP_ABI_XEN_CONSOLE_IO_H
#define WISP_ABI_XEN_CONSOLE_IO_H

/*
 * The hypervisor's own console, as opposed to the per-domain console ring
 * (console.h). Arguments are plain registers, no struct:
 *   CONSOLEIO_write: IN count bytes at buffer; returns 0 (Xen) or -XEN_E*.
 *   CONSOLEIO_read:  OUT up to count bytes into buffer; returns bytes read.
 */
#define CONSOLEIO_write  0
#define CONSOLEIO_read   1

#endif
