/* vmcs.h (hypervisor): Intel VMX names: capability MSRs, VMCS field encodings, control bits, exit reasons. */
#ifndef WISP_VMX_VMCS_H
#define WISP_VMX_VMCS_H

/*
 * Every number here is taken from the Intel SDM vol 3 (order no. 325384,
 * 2023 numbering: ch. 25 VMCS, 27 entry, 28 exit, 31 instruction reference):
 * appendix A (capability MSRs), appendix B (field encodings), appendix C
 * (exit reasons) and chapters 25-28 (control and information field formats).
 * Logic uses only these names.
 */

/* ---- MSRs (SDM vol 4, table 2-2; vol 3 appendix A) ---- */
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)  /* VMXON allowed outside SMX */
#define MSR_IA32_VMX_BASIC          0x480u  /* A.1 */
#define MSR_IA32_VMX_PINBASED_CTLS  0x481u  /* A.3.1 */
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482u  /* A.3.2 */
#define MSR_IA32_VMX_EXIT_CTLS      0x483u  /* A.4 */
#define MSR_IA32_VMX_ENTRY_CTLS     0x484u  /* A.5 */
#define MSR_IA32_VMX_MISC           0x485u  /* A.6: bits 4:0 = VMX-preemption timer rate */
#define VMX_MISC_PREEMPTION_SHIFT   0x1Fu   /* the timer ticks each time this TSC bit changes */
#define MSR_IA32_VMX_CR0_FIXED0     0x486u  /* A.7: bits that must be 1 in CR0 */
#define MSR_IA32_VMX_CR0_FIXED1     0x487u  /* A.7: bits that may be 1 in CR0 */
#define MSR_IA32_VMX_CR4_FIXED0     0x488u  /* A.8 */
#define MSR_IA32_VMX_CR4_FIXED1     0x489u  /* A.8 */
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48Bu /* A.3.3 */
#define MSR_IA32_VMX_EPT_VPID_CAP   0x48Cu  /* A.10 */
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48Du  /* A.3.1, when BASIC bit 55 */
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48Eu  /* A.3.2 */
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48Fu  /* A.4 */
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490u  /* A.5 */

/* IA32_VMX_BASIC fields (A.1). */
#define VMX_BASIC_REVISION_MASK     0x7fffffffull   /* bits 30:0: VMCS revision id */
#define VMX_BASIC_TRUE_CTLS         (1ull << 55)    /* TRUE_*_CTLS MSRs exist */

/* IA32_VMX_EPT_VPID_CAP bits (A.10). */
#define EPT_CAP_WALK_LENGTH_4       (1ull << 6)     /* page-walk length 4 supported */
#define EPT_CAP_MEMTYPE_WB          (1ull << 14)    /* EPT structures may be WB */
#define EPT_CAP_2M_PAGES            (1ull << 16)    /* PDE may map 2 MiB */
#define EPT_CAP_1G_PAGES            (1ull << 17)    /* PDPTE may map 1 GiB */
#define EPT_CAP_INVEPT              (1ull << 20)    /* INVEPT supported */
#define EPT_CAP_INVEPT_SINGLE       (1ull << 25)    /* single-context INVEPT */
#define EPT_CAP_INVEPT_ALL          (1ull << 26)    /* all-context INVEPT */
#define VPID_CAP_INVVPID            (1ull << 32)    /* INVVPID supported */
#define VPID_CAP_INVVPID_SINGLE     (1ull << 41)    /* single-context INVVPID */
#define VPID_CAP_INVVPID_ALL        (1ull << 42)    /* all-context INVVPID */

/* INVEPT types (SDM vol 3, 30.3 "INVEPT"). */
#define INVEPT_SINGLE_CONTEXT       1
#define INVEPT_ALL_CONTEXT          2
/* INVVPID types (SDM vol 3, 31.3 "INVVPID"). */
#define INVVPID_SINGLE_CONTEXT      1
#define INVVPID_ALL_CONTEXT         2

/* EPT pointer format (SDM vol 3, 25.6.11, table 25-9). */
#define EPTP_MEMTYPE_WB             6ull            /* bits 2:0: write-back */
#define EPTP_WALK_LENGTH_4          (3ull << 3)     /* bits 5:3: walk length minus 1 */

/* ---- VMCS field encodings (appendix B) ---- */
/* 16-bit control (B.1.1). */
#define VMCS_VPID                   0x0000u
/* 16-bit guest state (B.1.2). */
#define VMCS_GUEST_ES_SEL           0x0800u
#define VMCS_GUEST_CS_SEL           0x0802u
#define VMCS_GUEST_SS_SEL           0x0804u
#define VMCS_GUEST_DS_SEL           0x0806u
#define VMCS_GUEST_FS_SEL           0x0808u
#define VMCS_GUEST_GS_SEL           0x080Au
#define VMCS_GUEST_LDTR_SEL         0x080Cu
#define VMCS_GUEST_TR_SEL           0x080Eu
/* 16-bit host state (B.1.3). */
#define VMCS_HOST_ES_SEL            0x0C00u
#define VMCS_HOST_CS_SEL            0x0C02u
#define VMCS_HOST_SS_SEL            0x0C04u
#define VMCS_HOST_DS_SEL            0x0C06u
#define VMCS_HOST_FS_SEL            0x0C08u
#define VMCS_HOST_GS_SEL            0x0C0Au
#define VMCS_HOST_TR_SEL            0x0C0Cu
/* 64-bit control (B.2.1). */
#define VMCS_MSR_BITMAP             0x2004u
#define VMCS_VIRTUAL_APIC_ADDR      0x2012u
#define VMCS_EPT_POINTER            0x201Au
#define VMCS_XSS_EXIT_BITMAP        0x202Cu
/* 64-bit read-only data (B.2.2). */
#define VMCS_GUEST_PHYSICAL_ADDR    0x2400u
/* 64-bit guest state (B.2.3). */
#define VMCS_LINK_POINTER           0x2800u
#define VMCS_GUEST_DEBUGCTL         0x2802u
#define VMCS_GUEST_PAT              0x2804u
#define VMCS_GUEST_EFER             0x2806u
#define VMCS_GUEST_PDPTE0           0x280Au  /* PDPTE1..3 follow, 2 apart; PAE paging with EPT (27.3.2.4) */
/* 64-bit host state (B.2.4). */
#define VMCS_HOST_PAT               0x2C00u
#define VMCS_HOST_EFER              0x2C02u
/* 32-bit control (B.3.1). */
#define VMCS_PIN_CONTROLS           0x4000u
#define VMCS_PROC_CONTROLS          0x4002u
#define VMCS_EXCEPTION_BITMAP       0x4004u
#define VMCS_CR3_TARGET_COUNT       0x400Au
#define VMCS_EXIT_CONTROLS          0x400Cu
#define VMCS_EXIT_MSR_STORE_COUNT   0x400Eu
#define VMCS_EXIT_MSR_LOAD_COUNT    0x4010u
#define VMCS_ENTRY_CONTROLS         0x4012u
#define VMCS_ENTRY_MSR_LOAD_COUNT   0x4014u
#define VMCS_ENTRY_INTR_INFO        0x4016u
#define VMCS_ENTRY_EXCEPTION_ERROR  0x4018u
#define VMCS_ENTRY_INSTR_LEN        0x401Au
#define VMCS_TPR_THRESHOLD          0x401Cu
#define VMCS_PROC_CONTROLS2         0x401Eu
/* 32-bit read-only data (B.3.2). */
#define VMCS_INSTRUCTION_ERROR      0x4400u
#define VMCS_EXIT_REASON            0x4402u
#define VMCS_EXIT_INTR_INFO         0x4404u
#define VMCS_EXIT_INTR_ERROR        0x4406u
#define VMCS_IDT_VECTORING_INFO     0x4408u
#define VMCS_IDT_VECTORING_ERROR    0x440Au
#define VMCS_EXIT_INSTR_LEN         0x440Cu
/* 32-bit guest state (B.3.3). */
#define VMCS_GUEST_ES_LIMIT         0x4800u
#define VMCS_GUEST_CS_LIMIT         0x4802u
#define VMCS_GUEST_SS_LIMIT         0x4804u
#define VMCS_GUEST_DS_LIMIT         0x4806u
#define VMCS_GUEST_FS_LIMIT         0x4808u
#define VMCS_GUEST_GS_LIMIT         0x480Au
#define VMCS_GUEST_LDTR_LIMIT       0x480Cu
#define VMCS_GUEST_TR_LIMIT         0x480Eu
#define VMCS_GUEST_GDTR_LIMIT       0x4810u
#define VMCS_GUEST_IDTR_LIMIT       0x4812u
#define VMCS_GUEST_ES_AR            0x4814u
#define VMCS_GUEST_CS_AR            0x4816u
#define VMCS_GUEST_SS_AR            0x4818u
#define VMCS_GUEST_DS_AR            0x481Au
#define VMCS_GUEST_FS_AR            0x481Cu
#define VMCS_GUEST_GS_AR            0x481Eu
#define VMCS_GUEST_LDTR_AR          0x4820u
#define VMCS_GUEST_TR_AR            0x4822u
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824u
#define VMCS_GUEST_ACTIVITY_STATE   0x4826u
#define VMCS_GUEST_SYSENTER_CS      0x482Au
#define VMCS_PREEMPTION_TIMER_VALUE 0x482Eu  /* B.3.3; counts down in the guest (26.5.1) */
/* 32-bit host state (B.3.4). */
#define VMCS_HOST_SYSENTER_CS       0x4C00u
/* Natural-width control (B.4.1). */
#define VMCS_CR0_GUEST_HOST_MASK    0x6000u
#define VMCS_CR4_GUEST_HOST_MASK    0x6002u
#define VMCS_CR0_READ_SHADOW        0x6004u
#define VMCS_CR4_READ_SHADOW        0x6006u
/* Natural-width read-only data (B.4.2). */
#define VMCS_EXIT_QUALIFICATION     0x6400u
/* Natural-width guest state (B.4.3). */
#define VMCS_GUEST_CR0              0x6800u
#define VMCS_GUEST_CR3              0x6802u
#define VMCS_GUEST_CR4              0x6804u
#define VMCS_GUEST_ES_BASE          0x6806u
#define VMCS_GUEST_CS_BASE          0x6808u
#define VMCS_GUEST_SS_BASE          0x680Au
#define VMCS_GUEST_DS_BASE          0x680Cu
#define VMCS_GUEST_FS_BASE          0x680Eu
#define VMCS_GUEST_GS_BASE          0x6810u
#define VMCS_GUEST_LDTR_BASE        0x6812u
#define VMCS_GUEST_TR_BASE          0x6814u
#define VMCS_GUEST_GDTR_BASE        0x6816u
#define VMCS_GUEST_IDTR_BASE        0x6818u
#define VMCS_GUEST_DR7              0x681Au
#define VMCS_GUEST_RSP              0x681Cu
#define VMCS_GUEST_RIP              0x681Eu
#define VMCS_GUEST_RFLAGS           0x6820u
#define VMCS_GUEST_PENDING_DBG      0x6822u
#define VMCS_GUEST_SYSENTER_ESP     0x6824u
#define VMCS_GUEST_SYSENTER_EIP     0x6826u
/* Natural-width host state (B.4.4). */
#define VMCS_HOST_CR0               0x6C00u
#define VMCS_HOST_CR3               0x6C02u
#define VMCS_HOST_CR4               0x6C04u
#define VMCS_HOST_FS_BASE           0x6C06u
#define VMCS_HOST_GS_BASE           0x6C08u
#define VMCS_HOST_TR_BASE           0x6C0Au
#define VMCS_HOST_GDTR_BASE         0x6C0Cu
#define VMCS_HOST_IDTR_BASE         0x6C0Eu
#define VMCS_HOST_SYSENTER_ESP      0x6C10u
#define VMCS_HOST_SYSENTER_EIP      0x6C12u
#define VMCS_HOST_RSP               0x6C14u
#define VMCS_HOST_RIP               0x6C16u

/* ---- Control bits ---- */
/* Pin-based VM-execution controls (25.6.1, table 25-5). */
#define PIN_EXTERNAL_INTR_EXITING   (1u << 0)   /* host interrupts exit */
#define PIN_NMI_EXITING             (1u << 3)   /* NMIs exit */
#define PIN_VIRTUAL_NMIS            (1u << 5)   /* guest NMI blocking tracked, IRET clears it */
#define PIN_PREEMPTION_TIMER        (1u << 6)   /* the guest exits when the timer reaches 0 */
/* Primary processor-based controls (25.6.2, table 25-6). */
#define PROC_INTR_WINDOW_EXITING    (1u << 2)   /* exit when the guest can take an interrupt */
#define PROC_HLT_EXITING            (1u << 7)
#define PROC_INVLPG_EXITING         (1u << 9)
#define PROC_MWAIT_EXITING          (1u << 10)
#define PROC_RDPMC_EXITING          (1u << 11)
#define PROC_RDTSC_EXITING          (1u << 12)
#define PROC_CR3_LOAD_EXITING       (1u << 15)
#define PROC_CR3_STORE_EXITING      (1u << 16)
#define PROC_CR8_LOAD_EXITING       (1u << 19)
#define PROC_CR8_STORE_EXITING      (1u << 20)
#define PROC_USE_TPR_SHADOW         (1u << 21)  /* CR8 goes to the virtual-APIC page */
#define PROC_MOV_DR_EXITING         (1u << 23)
#define PROC_UNCOND_IO_EXITING      (1u << 24)  /* every I/O instruction exits */
#define PROC_USE_IO_BITMAPS         (1u << 25)
#define PROC_USE_MSR_BITMAPS        (1u << 28)
#define PROC_MONITOR_EXITING        (1u << 29)
#define PROC_PAUSE_EXITING          (1u << 30)  /* every PAUSE exits (multi-vCPU guests) */
#define PROC_ACTIVATE_SECONDARY     (1u << 31)
/* Secondary processor-based controls (25.6.2, table 25-7). */
#define PROC2_ENABLE_EPT            (1u << 1)
#define PROC2_ENABLE_RDTSCP         (1u << 3)   /* else RDTSCP #UDs */
#define PROC2_ENABLE_VPID           (1u << 5)
#define PROC2_WBINVD_EXITING        (1u << 6)
#define PROC2_UNRESTRICTED_GUEST    (1u << 7)   /* guest may run with PE or PG clear */
#define PROC2_ENABLE_INVPCID        (1u << 12)  /* else INVPCID #UDs */
#define PROC2_ENABLE_XSAVES         (1u << 20)  /* else XSAVES/XRSTORS #UD */
/* VM-exit controls (25.7.1, table 25-13). */
#define EXIT_SAVE_DEBUG_CONTROLS    (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE   (1u << 9)   /* return to a 64-bit host */
#define EXIT_ACK_INTR_ON_EXIT       (1u << 15)  /* vector in the exit interruption info */
#define EXIT_SAVE_PAT               (1u << 18)
#define EXIT_LOAD_PAT               (1u << 19)
#define EXIT_SAVE_EFER              (1u << 20)
#define EXIT_LOAD_EFER              (1u << 21)
/* VM-entry controls (25.8.1, table 25-15). */
#define ENTRY_LOAD_DEBUG_CONTROLS   (1u << 2)
#define ENTRY_IA32E_MODE_GUEST      (1u << 9)   /* = guest EFER.LMA; saved by every exit */
#define ENTRY_LOAD_PAT              (1u << 14)
#define ENTRY_LOAD_EFER             (1u << 15)

/* Interruption-information format: entry (25.8.3), exit and IDT-vectoring (25.9.2, 25.9.3). */
#define INTR_INFO_VECTOR_MASK       0xffu       /* bits 7:0 */
#define INTR_INFO_TYPE_SHIFT        8           /* bits 10:8 */
#define INTR_INFO_TYPE_MASK         (7u << 8)
#define INTR_TYPE_EXTERNAL          0u
#define INTR_TYPE_NMI               2u
#define INTR_TYPE_HW_EXCEPTION      3u
#define INTR_TYPE_SW_INTERRUPT      4u
#define INTR_TYPE_PRIV_SW_EXCEPTION 5u
#define INTR_TYPE_SW_EXCEPTION      6u
#define INTR_INFO_ERROR_VALID       (1u << 11)  /* deliver / has an error code */
#define INTR_INFO_NMI_UNBLOCKED     (1u << 12)  /* exit only, as EPT_QUAL_NMI_UNBLOCKED; reserved on entry */
#define INTR_INFO_VALID             (1u << 31)

/* Guest segment access rights (25.4.1, table 25-2). */
#define AR_DPL_SHIFT                5
#define AR_DPL_MASK                 (3u << 5)
#define AR_L_64BIT                  (1u << 13)
#define AR_DB_32BIT                 (1u << 14)
#define AR_UNUSABLE                 (1u << 16)

/* Guest activity state (25.4.2, table 25-3). */
#define ACTIVITY_ACTIVE             0u
/* Guest interruptibility state bits (25.4.2, table 25-3). */
#define INTERRUPTIBILITY_STI        (1u << 0)
#define INTERRUPTIBILITY_MOV_SS     (1u << 1)
#define INTERRUPTIBILITY_NMI        (1u << 3)   /* blocking by NMI: in the handler until IRET */

/* Architectural reset values used at the PVH entry. */
#define VMX_DR7_RESET               0x400ull    /* SDM vol 3, 18.2.4 */
#define VMX_PAT_RESET               0x0007040600070406ull   /* SDM vol 3, 12.12.4 */
#define VMCS_LINK_POINTER_NONE      (~0ull)     /* no shadow VMCS (26.3.1.5) */

/* ---- Exit information ---- */
/* Exit reason field (25.9.1, table 25-17). */
#define EXIT_REASON_BASIC_MASK      0xffffu
#define EXIT_REASON_ENTRY_FAILURE   (1u << 31)

/* Basic exit reasons (appendix C). */
#define VMX_EXIT_EXCEPTION_NMI      0
#define VMX_EXIT_EXTERNAL_INTR      1
#define VMX_EXIT_TRIPLE_FAULT       2
#define VMX_EXIT_INIT_SIGNAL        3
#define VMX_EXIT_INTR_WINDOW        7
#define VMX_EXIT_TASK_SWITCH        9
#define VMX_EXIT_CPUID              10
#define VMX_EXIT_HLT                12
#define VMX_EXIT_INVD               13
#define VMX_EXIT_RDPMC              15
#define VMX_EXIT_VMCALL             18
#define VMX_EXIT_VMCLEAR            19
#define VMX_EXIT_VMLAUNCH           20
#define VMX_EXIT_VMPTRLD            21
#define VMX_EXIT_VMPTRST            22
#define VMX_EXIT_VMREAD             23
#define VMX_EXIT_VMRESUME           24
#define VMX_EXIT_VMWRITE            25
#define VMX_EXIT_VMXOFF             26
#define VMX_EXIT_VMXON              27
#define VMX_EXIT_CR_ACCESS          28
#define VMX_EXIT_IO                 30
#define VMX_EXIT_RDMSR              31
#define VMX_EXIT_WRMSR              32
#define VMX_EXIT_MWAIT              36
#define VMX_EXIT_MONITOR            39
#define VMX_EXIT_PAUSE              40
#define VMX_EXIT_MCE_DURING_ENTRY   41  /* with EXIT_REASON_ENTRY_FAILURE */
#define VMX_EXIT_EPT_VIOLATION      48
#define VMX_EXIT_EPT_MISCONFIG      49
#define VMX_EXIT_INVEPT             50
#define VMX_EXIT_PREEMPTION_TIMER   52
#define VMX_EXIT_INVVPID            53
#define VMX_EXIT_WBINVD             54
#define VMX_EXIT_XSETBV             55
#define VMX_EXIT_VMFUNC             59
/* Not a hardware reason: VMLAUNCH/VMRESUME itself failed (VMfail), see hw_qual. */
#define VMX_EXIT_ENTRY_INSN_FAILED  0xffffffffull

/* Exit qualification, control-register access (28.2.1, table 28-3). */
#define CR_QUAL_CR_MASK             0xfu        /* bits 3:0: CR number */
#define CR_QUAL_ACCESS_SHIFT        4           /* bits 5:4: access type */
#define CR_QUAL_ACCESS_MASK         3u
#define CR_ACCESS_MOV_TO_CR         0u
#define CR_QUAL_GPR_SHIFT           8           /* bits 11:8: general register */
#define CR_QUAL_GPR_MASK            0xfu
/* Exit qualification, I/O instruction (28.2.1, table 28-5). */
#define IO_QUAL_SIZE_MASK           7u          /* bits 2:0: bytes minus 1 */
#define IO_QUAL_IN                  (1u << 3)
#define IO_QUAL_STRING              (1u << 4)
#define IO_QUAL_REP                 (1u << 5)
#define IO_QUAL_PORT_SHIFT          16          /* bits 31:16 */
/* Exit qualification, EPT violation (28.2.1, table 28-7). */
#define EPT_QUAL_READ               (1u << 0)   /* the access was a data read */
#define EPT_QUAL_WRITE              (1u << 1)   /* ... a data write */
#define EPT_QUAL_FETCH              (1u << 2)   /* ... an instruction fetch */
#define EPT_QUAL_READABLE           (1u << 3)   /* the gpa was readable */
#define EPT_QUAL_WRITABLE           (1u << 4)
#define EPT_QUAL_EXECUTABLE         (1u << 5)
#define EPT_QUAL_NMI_UNBLOCKED      (1u << 12)  /* a faulting IRET had unblocked virtual NMIs */

/* VM-instruction error numbers worth naming in logs (31.4, table 31-1). */
#define VMX_ERROR_ENTRY_INVALID_CONTROLS  7
#define VMX_ERROR_ENTRY_INVALID_HOST      8

#endif
