/* inbox_layout.h (host tool and service-domain tool): the inbox's layout, which `wisp create` and wisp-agent share (docs/control-protocol.md, "take"). */
#ifndef WISP_PROTOCOL_INBOX_LAYOUT_H
#define WISP_PROTOCOL_INBOX_LAYOUT_H

/*
 * The inbox is a boot module of the service domain's own (a disk of the backend
 * domain: its /dev/pmemN). The host writes a file's bytes into it through the
 * machine's shared RAM and the agent reads them out (op `take`). Its first page
 * is a header: INBOX_MAGIC and a nonce `wisp up` chose, which the host checks to
 * know it found the module in the machine's memory. The agent never reads it.
 */
#define INBOX_MODULE       "inbox.img"
#define INBOX_MAGIC        "wisp-inbox 1 "
#define INBOX_HEADER_BYTES 4096u
#define INBOX_DATA_BYTES   (16u << 20)     /* the most a `take` moves */

#endif
