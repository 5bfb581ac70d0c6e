/* time.c (hypervisor): the TSC rate (measured against the PIT), system time, and the CMOS wall clock. */
#include "env.h"
#include "printk.h"
#include "time.h"
#include "x86.h"

static uint64_t tsc_base;           /* TSC at system time 0 */
static uint64_t tsc_hz;
static struct time_scale tsc_scale;
static uint64_t boot_wc_sec;
static uint32_t boot_wc_nsec;

/* PIT channel 2, gated through port 0x61: the one channel we may run without an interrupt. */
#define PIT_HZ          1193182ull
#define PIT_CH2         0x42
#define PIT_MODE        0x43
#define PIT_GATE_PORT   0x61
#define PIT_GATE2       0x01
#define PIT_SPEAKER     0x02
#define PIT_LATCH_CH2   0x80
#define CALIBRATE_MS    20
#define SAMPLE_TRIES    5           /* one interruption spoils one try, not all five */

static uint16_t pit_ch2_count(void)
{
    outb(PIT_MODE, PIT_LATCH_CH2);
    uint8_t lo = inb(PIT_CH2);
    return (uint16_t)(lo | inb(PIT_CH2) << 8);
}

/* The reading pinned most tightly to the TSC, out of a few taken back to back. */
static struct clock_sample pit_sample(void)
{
    struct clock_sample tries[SAMPLE_TRIES];

    for (size_t i = 0; i < SAMPLE_TRIES; i++) {
        tries[i].tsc_before = rdtsc();
        tries[i].count = pit_ch2_count();
        tries[i].tsc_after = rdtsc();
    }
    return tries[clock_sample_narrowest(tries, SAMPLE_TRIES)];
}

/*
 * Times CALIBRATE_MS of PIT counting with the TSC. Only the two end readings
 * matter, and each is bracketed by TSC reads, so a pause anywhere (a host that
 * deschedules the emulator, an SMI) costs accuracy only if it hits every try.
 */
static uint64_t measure_tsc_hz(uint64_t *error_ppm)
{
    const uint16_t ticks = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);

    outb(PIT_GATE_PORT, (inb(PIT_GATE_PORT) & ~PIT_SPEAKER) | PIT_GATE2);
    outb(PIT_MODE, 0xb0);           /* channel 2, lobyte/hibyte, mode 0: counts down once */
    outb(PIT_CH2, 0xff);
    outb(PIT_CH2, 0xff);
    struct clock_sample first = pit_sample();
    while ((uint16_t)(first.count - pit_ch2_count()) < ticks)
        cpu_relax();
    struct clock_sample last = pit_sample();
    outb(PIT_GATE_PORT, inb(PIT_GATE_PORT) & ~PIT_GATE2);
    return clock_sample_tsc_hz(first, last, PIT_HZ, error_ppm);
}

/* CMOS real-time clock (MC146818 registers). */
#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_STATUS_A_UPDATING 0x80
#define RTC_STATUS_B_BINARY   0x04
#define RTC_STATUS_B_24H      0x02

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static unsigned from_bcd(uint8_t v, bool binary) { return binary ? v : (v >> 4) * 10 + (v & 15); }

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t)doe - 719468;
}

static uint64_t read_cmos_unix_time(void)
{
    while (cmos_read(0x0a) & RTC_STATUS_A_UPDATING)
        cpu_relax();
    uint8_t b = cmos_read(0x0b);
    bool bin = b & RTC_STATUS_B_BINARY;
    unsigned sec = from_bcd(cmos_read(0x00), bin), min = from_bcd(cmos_read(0x02), bin);
    uint8_t hour_raw = cmos_read(0x04);
    unsigned hour = from_bcd(hour_raw & 0x7f, bin);
    unsigned day = from_bcd(cmos_read(0x07), bin), mon = from_bcd(cmos_read(0x08), bin);
    unsigned year = from_bcd(cmos_read(0x09), bin);

    if (!(b & RTC_STATUS_B_24H) && (hour_raw & 0x80))
        hour = (hour % 12) + 12;
    if (mon < 1 || mon > 12 || day < 1 || day > 31)
        return 0;
    year += year < 70 ? 2000 : 1900;
    return (uint64_t)days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}

void time_init(void)
{
    uint64_t error_ppm = 0;

    tsc_hz = measure_tsc_hz(&error_ppm);
    if (!tsc_hz)
        panic("the PIT did not count: cannot measure the TSC");
    tsc_scale = time_scale_for(tsc_hz);
    tsc_base = rdtsc();

    uint64_t wall = read_cmos_unix_time();
    uint64_t since_boot = now_ns();
    uint64_t wall_ns = wall * NS_PER_SEC - since_boot;

    boot_wc_sec = wall_ns / NS_PER_SEC;
    boot_wc_nsec = (uint32_t)(wall_ns % NS_PER_SEC);
    log_info("TSC %lu.%03lu MHz (within %lu ppm); wall clock %lu (CMOS)", tsc_hz / 1000000,
             tsc_hz / 1000 % 1000, error_ppm, wall);
}

uint64_t now_ns(void) { return time_scale_apply(tsc_scale, rdtsc() - tsc_base); }

uint64_t ns_to_tsc(uint64_t ns)
{
    /* Split so neither product overflows: ns % 1e9 < 2^30 and tsc_hz < 2^33. */
    return tsc_base + ns / NS_PER_SEC * tsc_hz + ns % NS_PER_SEC * tsc_hz / NS_PER_SEC;
}

uint64_t time_tsc_base(void) { return tsc_base; }
uint64_t time_tsc_khz(void) { return tsc_hz / 1000; }
struct time_scale time_scale(void) { return tsc_scale; }

void time_boot_wallclock(uint64_t *sec, uint32_t *nsec)
{
    *sec = boot_wc_sec;
    *nsec = boot_wc_nsec;
}
