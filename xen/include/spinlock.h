/* spinlock.h (hypervisor): a ticket lock for state several physical CPUs share. */
#ifndef WISP_SPINLOCK_H
#define WISP_SPINLOCK_H

#include "env.h"

/*
 * Tickets make waiters take the lock in arrival order, so no CPU starves.
 * The hypervisor runs with interrupts off (apic.h), so a lock is never taken
 * by an interrupt handler that interrupted its holder.
 */
typedef struct {
    uint16_t next;          /* the ticket the next arrival draws */
    uint16_t owner;         /* the ticket that holds the lock now */
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(spinlock_t *l)
{
    uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
        __asm__ volatile("pause");
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

#endif
