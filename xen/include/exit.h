/* exit.h (hypervisor): what common code decides after each VM exit. */
#ifndef WISP_EXIT_H
#define WISP_EXIT_H

#include "domain.h"
#include "hvm.h"
#include "x86.h"

/* The MSR a guest writes its hypercall page's address to (reported in CPUID 0x40000002 EBX). */
#define XEN_HYPERCALL_PAGE_MSR 0x40000000u

enum exit_action {
    EXIT_ACTION_RESUME,         /* enter the same vCPU again */
    EXIT_ACTION_RESCHEDULE,     /* the vCPU blocked or yielded */
    EXIT_ACTION_CRASH,          /* the guest misbehaved: end its domain */
};

/* Decides what the exit means; the only caller is the scheduler's run loop. */
enum exit_action handle_exit(struct vcpu *v, const struct vm_exit *exit);

/* Policies, each in its own file. */
void cpuid_policy(const struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);
/* The CR4 bits v's CPUID features allow (for start states a guest gives). */
uint64_t cpuid_cr4_valid(const struct vcpu *v);
/* false: the MSR is not offered (or the value is invalid) and the guest gets #GP. */
bool msr_read(struct vcpu *v, uint32_t index, uint64_t *value);
bool msr_write(struct vcpu *v, uint32_t index, uint64_t value);
/* Loads the per-vCPU registers no VMCB/VMCS field holds (TSC_AUX; DR0-DR3 and DR6
 * through debug_regs_switch_to) before v runs. */
void msr_switch_to(struct vcpu *v);
/* Saves the previous vCPU's debug registers on this pCPU and loads v's. */
void debug_regs_switch_to(struct vcpu *v);
/* v is going away: this pCPU must not save into it later. */
void debug_regs_forget(struct vcpu *v);
/* Saves and unloads what this pCPU holds of v (FPU, debug registers, VMX: VMCLEAR). */
void vcpu_leave_cpu(struct vcpu *v);
/* DR6 at reset: reserved bits set (SDM vol 3, 18.2.3). */
#define DR6_RESET 0xffff0ff0ull
enum exit_action hypercall_dispatch(struct vcpu *v);

/* Injects #GP(0): the guest did something a real CPU would refuse. */
void inject_gp(struct vcpu *v);

#endif
