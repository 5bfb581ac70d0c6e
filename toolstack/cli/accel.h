/* accel.h (host tool): whether QEMU runs Wisp on the host's own SVM or VMX (KVM) or emulates them (TCG). */
#ifndef WISP_CLI_ACCEL_H
#define WISP_CLI_ACCEL_H

#include <stdbool.h>
#include <stddef.h>

enum accel_choice { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

enum host_vendor { HOST_VENDOR_OTHER, HOST_VENDOR_AMD, HOST_VENDOR_INTEL };

/* A KVM module parameter: its file is missing, or it reads as off or on. */
enum host_param { PARAM_MISSING, PARAM_OFF, PARAM_ON };

/*
 * What the host offers a QEMU that wants to give Wisp real SVM or VMX: Wisp
 * needs nested paging, and on Intel unrestricted guest, inside the VM, which
 * KVM passes on only when it uses them itself.
 */
struct host_virt {
    int kvm_errno;              /* 0: /dev/kvm may be opened read-write; else why not */
    enum host_vendor vendor;    /* /proc/cpuinfo vendor_id */
    bool cpu_flag;              /* /proc/cpuinfo flags has svm (AMD) or vmx (Intel) */
    enum host_param nested;     /* kvm_amd or kvm_intel: nested */
    enum host_param paging;     /* kvm_amd: npt; kvm_intel: ept */
    enum host_param unrestricted;   /* kvm_intel: unrestricted_guest (AMD: always PARAM_ON) */
};

/*
 * Reads the host's facts from the files under ROOT ("" for this host; tests
 * pass a fake tree): ROOT/dev/kvm, ROOT/proc/cpuinfo and
 * ROOT/sys/module/kvm_{amd,intel}/parameters/.
 */
void host_virt_read(const char *root, struct host_virt *host);

/* The root host_virt_read() is given: $WISP_HOST_ROOT if set (tests), else "". */
const char *host_root(void);

struct accel_decision {
    bool kvm;                   /* QEMU runs with -accel kvm -cpu host; else TCG, -cpu max */
    bool error;                 /* --accel kvm and the host cannot: WHY says what is missing */
    char why[200];              /* one line, no newline */
};

/*
 * Decides for QEMU: auto takes KVM when the host has everything Wisp needs
 * from it, else TCG; kvm insists (an error names what is missing); tcg never
 * looks. WHY says which was chosen and why, for the note on stderr.
 */
void accel_decide(enum accel_choice choice, const struct host_virt *host,
                  struct accel_decision *out);

/* Parses "auto", "kvm" or "tcg"; false for anything else. */
bool accel_parse(const char *text, enum accel_choice *choice);

#endif
