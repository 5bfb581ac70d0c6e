/* evlib.h (guest): what the event, time, LAPIC and SMP test guests share: shared_info, event-channel ops, the upcall scan, pvclock, x2APIC MSRs. */
#ifndef WISP_TESTS_GUESTS_EVLIB_H
#define WISP_TESTS_GUESTS_EVLIB_H

#include "check.h"
#include "xen/event_channel.h"
#include "xen/xen.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
/* The 2-level ABI's ports: 4096 for 64-bit guests (64 x 64 bits), 1024 for 32-bit ones (32 x 32). */
#define EV_MAX_PORTS EVTCHN_2L_NR_CHANNELS
#define EV_BITS_PER_WORD (sizeof(xen_ulong_t) * 8)

/* The shared_info page once ev_map_shared_info() succeeded, else NULL. */
extern volatile struct shared_info *shinfo;

/* XENMEM_add_to_physmap(XENMAPSPACE_shared_info) onto a page of our image. */
long ev_map_shared_info(void);

/* ---- EVTCHNOP_* (hypercall 32); ports come back through *port ---- */
long ev_op(int cmd, unsigned long arg);
long ev_alloc_unbound(domid_t dom, domid_t remote, uint32_t *port);
long ev_bind_interdomain(domid_t remote, uint32_t remote_port, uint32_t *port);
long ev_bind_virq(uint32_t virq, uint32_t vcpu, uint32_t *port);
long ev_bind_ipi(uint32_t vcpu, uint32_t *port);
long ev_bind_vcpu(uint32_t port, uint32_t vcpu);
long ev_close(uint32_t port);
long ev_send(uint32_t port);
long ev_unmask(uint32_t port);
long ev_status(uint32_t port, struct evtchn_status *out);
long ev_reset(domid_t dom);

/* ---- The 2-level bitmaps and vcpu_info, as the guest side sees them ---- */
bool ev_pending(uint32_t port);
bool ev_masked(uint32_t port);
void ev_set_pending(uint32_t port);
void ev_clear_pending(uint32_t port);
void ev_set_mask(uint32_t port);
void ev_clear_mask(uint32_t port);
bool ev_selector_has(unsigned int vcpu, uint32_t port);
xen_ulong_t ev_selector(unsigned int vcpu);
uint8_t ev_upcall_pending(unsigned int vcpu);
/* Selector and evtchn_upcall_pending of vcpu back to 0. */
void ev_clear_vcpu(unsigned int vcpu);
/* Every pending bit, the vCPU's selector and upcall flag to 0 (masks stay). */
void ev_clear_all(unsigned int vcpu);

/*
 * The upcall: clears evtchn_upcall_pending, takes the selector, and for each
 * pending unmasked port clears its bit and counts it in ev_count[port] (with
 * the pvclock time in ev_time[port]). Call from an interrupt handler.
 */
void ev_upcall_scan(unsigned int vcpu);
extern volatile unsigned int ev_count[EV_MAX_PORTS];
extern volatile uint64_t ev_time[EV_MAX_PORTS];

/* ---- Time ---- */
/* pvclock system time (ns) from vcpu_info[0].time: ((tsc - tsc_timestamp) scaled) + system_time. */
uint64_t pv_now(void);
/* The same from any vcpu_time_info (vcpu_info's or a registered time area). */
uint64_t pv_time_of(const volatile struct vcpu_time_info *t);
/* Spins (interrupts as they are) until *counter != start or the deadline passes; true if it changed. */
bool wait_count_change(volatile unsigned int *counter, unsigned int start, uint64_t deadline_ns);
/* Spins until the pvclock reaches deadline_ns. */
void spin_until(uint64_t deadline_ns);
/* For SMP guests: gives the pCPU away (SCHEDOP_yield) until *counter >= want,
 * false if timeout_ns passes first; or for ns. */
bool yield_until_count(volatile unsigned int *counter, unsigned int want, uint64_t timeout_ns);
void yield_for(uint64_t ns);

/* ---- x2APIC MSRs (SDM vol. 3A 11.12.1.2, table 11-6) ---- */
#define MSR_APIC_BASE     0x1B
#define APIC_BASE_BSP     (1ULL << 8)
#define APIC_BASE_EXTD    (1ULL << 10)
#define APIC_BASE_EN      (1ULL << 11)
#define X2APIC_ID         0x802
#define X2APIC_VERSION    0x803
#define X2APIC_TPR        0x808
#define X2APIC_PPR        0x80A
#define X2APIC_EOI        0x80B
#define X2APIC_LDR        0x80D
#define X2APIC_SVR        0x80F
#define X2APIC_ISR0       0x810
#define X2APIC_TMR0       0x818
#define X2APIC_IRR0       0x820
#define X2APIC_ESR        0x828
#define X2APIC_ICR        0x830
#define X2APIC_LVT_TIMER  0x832
#define X2APIC_LVT_ERROR  0x837
#define X2APIC_TIMER_INIT 0x838
#define X2APIC_TIMER_CUR  0x839
#define X2APIC_TIMER_DIV  0x83E
#define X2APIC_SELF_IPI   0x83F
#define MSR_TSC_DEADLINE  0x6E0
#define APIC_SVR_ENABLE   0x100
#define APIC_LVT_MASKED   (1U << 16)
#define APIC_LVT_PERIODIC (1U << 17)
/* ICR fields (SDM 11.6.1, figure 11-12). */
#define ICR_FIXED         (0U << 8)
#define ICR_NMI           (4U << 8)
#define ICR_INIT          (5U << 8)
#define ICR_STARTUP       (6U << 8)
#define ICR_LOGICAL       (1U << 11)
#define ICR_ASSERT        (1U << 14)
#define ICR_SELF          (1U << 18)
#define ICR_ALL           (2U << 18)
#define ICR_ALL_BUT_SELF  (3U << 18)
#define ICR_DEST(id)      ((uint64_t)(id) << 32)
#define APIC_VERSION_VALUE 0x50014U

/* The bit of vector in an 8-register bitmap (ISR/TMR/IRR) read through x2APIC. */
bool x2apic_vector_bit(uint32_t first_msr, unsigned int vector);
/* IA32_APIC_BASE.EXTD on (from xAPIC mode) and the APIC software-enabled (SVR). */
void x2apic_enable(void);

#endif
