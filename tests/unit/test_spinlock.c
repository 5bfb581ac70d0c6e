/* Unit tests for xen/include/spinlock.h: mutual exclusion between host threads; tickets wrap. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "spinlock.h"

#define ROUNDS 10000            /* per thread, at least */
#define MAX_ROUNDS 2000000      /* per thread, at most */
#define CONTENDED 50            /* times a thread must find the lock taken: the test then means something */
#define THREADS 2

static spinlock_t lock = SPINLOCK_INIT;
static volatile unsigned long counter;     /* protected by lock */
static pthread_barrier_t start;            /* the threads begin together */

/* Adds to counter under the lock until this thread has met the other in it often enough. */
static void *add_rounds(void *arg)
{
    unsigned long *rounds = arg, contended = 0;

    pthread_barrier_wait(&start);
    while (*rounds < MAX_ROUNDS && (*rounds < ROUNDS || contended < CONTENDED)) {
        if (__atomic_load_n(&lock.next, __ATOMIC_RELAXED) !=
            __atomic_load_n(&lock.owner, __ATOMIC_RELAXED))
            contended++;
        spin_lock(&lock);
        unsigned long seen = counter;       /* a lost update shows when two hold the lock */
        for (int k = 0; k < 10; k++)
            __asm__ volatile("pause");
        counter = seen + 1;
        spin_unlock(&lock);
        ++*rounds;
    }
    return NULL;
}

static void test_no_update_is_lost(void **state)
{
    pthread_t t[THREADS];
    unsigned long rounds[THREADS] = { 0 }, total = 0;

    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (unsigned i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, add_rounds, &rounds[i]), 0);
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        total += rounds[i];
    }
    pthread_barrier_destroy(&start);
    assert_int_equal(counter, total);
    assert_int_equal(lock.next, lock.owner);        /* free again */
    assert_int_equal(lock.next, (uint16_t)total);
}

static void test_waits_for_the_holder(void **state)
{
    spinlock_t l = SPINLOCK_INIT;

    spin_lock(&l);
    assert_int_equal(l.next, 1);
    assert_int_equal(l.owner, 0);                   /* held: a second taker would spin */
    spin_unlock(&l);
    assert_int_equal(l.owner, 1);
    spin_lock(&l);                                  /* free again: taken at once */
    spin_unlock(&l);
}

static void test_tickets_wrap(void **state)
{
    spinlock_t l = { .next = 0xffff, .owner = 0xffff };

    spin_lock(&l);                                  /* ticket 0xffff */
    spin_unlock(&l);
    assert_int_equal(l.next, 0);
    assert_int_equal(l.owner, 0);
    spin_lock(&l);                                  /* ticket 0, after the wrap */
    assert_int_equal(l.next, 1);
    spin_unlock(&l);
    assert_int_equal(l.owner, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_for_the_holder),
        cmocka_unit_test(test_tickets_wrap),
        cmocka_unit_test(test_no_update_is_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
