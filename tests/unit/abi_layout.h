/* abi_layout.h (host test): one list of ABI structs, fields and constants, expanded identically over our abi/ headers and Xen's. */
#ifndef WISP_TEST_ABI_LAYOUT_H
#define WISP_TEST_ABI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/*
 * abi_layout_ours.c includes our abi/xen headers, abi_layout_xen.c includes
 * libxen-dev's <xen/...>; the names clash, hence two translation units.
 * Each expands ABI_LAYOUT_DEFINE_TABLES(tag) below, producing tables whose
 * rows are in the same order, which test_abi_layout.c compares row by row.
 */
struct abi_layout_row {
    const char *name;  /* "struct x" (size row) or "struct x.field" */
    uint64_t offset;   /* offsetof, 0 for size rows */
    uint64_t size;     /* sizeof the struct or field; 0 = not compared */
};

struct abi_const_row {
    const char *name;
    int64_t value;
};

struct abi_tables {
    const struct abi_layout_row *layout;
    size_t nr_layout;
    const struct abi_const_row *consts;
    size_t nr_consts;
};

extern const struct abi_tables abi_tables_ours;
extern const struct abi_tables abi_tables_xen;

/*
 * S(type):        sizeof(type)
 * F(type, field): offset and size of a member (dotted paths allowed)
 * O(type, field): offset only (flexible array members, whose declared
 *                 size legitimately differs: Xen writes ring[1])
 */
#define ABI_LAYOUT_LIST(S, F, O)                                             \
    /* start_info.h */                                                       \
    S(struct hvm_start_info)                                                 \
    F(struct hvm_start_info, magic)                                          \
    F(struct hvm_start_info, version)                                        \
    F(struct hvm_start_info, flags)                                          \
    F(struct hvm_start_info, nr_modules)                                     \
    F(struct hvm_start_info, modlist_paddr)                                  \
    F(struct hvm_start_info, cmdline_paddr)                                  \
    F(struct hvm_start_info, rsdp_paddr)                                     \
    F(struct hvm_start_info, memmap_paddr)                                   \
    F(struct hvm_start_info, memmap_entries)                                 \
    F(struct hvm_start_info, reserved)                                       \
    S(struct hvm_modlist_entry)                                              \
    F(struct hvm_modlist_entry, paddr)                                       \
    F(struct hvm_modlist_entry, size)                                        \
    F(struct hvm_modlist_entry, cmdline_paddr)                               \
    F(struct hvm_modlist_entry, reserved)                                    \
    S(struct hvm_memmap_table_entry)                                         \
    F(struct hvm_memmap_table_entry, addr)                                   \
    F(struct hvm_memmap_table_entry, size)                                   \
    F(struct hvm_memmap_table_entry, type)                                   \
    F(struct hvm_memmap_table_entry, reserved)                               \
    /* xen.h */                                                              \
    S(xen_ulong_t)                                                           \
    S(xen_pfn_t)                                                             \
    S(domid_t)                                                               \
    S(XEN_GUEST_HANDLE(void))                                                \
    S(XEN_GUEST_HANDLE(xen_pfn_t))                                           \
    S(struct multicall_entry)                                                \
    F(struct multicall_entry, op)                                            \
    F(struct multicall_entry, result)                                        \
    F(struct multicall_entry, args)                                          \
    S(struct vcpu_time_info)                                                 \
    F(struct vcpu_time_info, version)                                        \
    F(struct vcpu_time_info, pad0)                                           \
    F(struct vcpu_time_info, tsc_timestamp)                                  \
    F(struct vcpu_time_info, system_time)                                    \
    F(struct vcpu_time_info, tsc_to_system_mul)                              \
    F(struct vcpu_time_info, tsc_shift)                                      \
    F(struct vcpu_time_info, flags)                                          \
    F(struct vcpu_time_info, pad1)                                           \
    S(struct arch_vcpu_info)                                                 \
    F(struct arch_vcpu_info, cr2)                                            \
    F(struct arch_vcpu_info, pad)                                            \
    S(struct vcpu_info)                                                      \
    F(struct vcpu_info, evtchn_upcall_pending)                               \
    F(struct vcpu_info, evtchn_upcall_mask)                                  \
    F(struct vcpu_info, evtchn_pending_sel)                                  \
    F(struct vcpu_info, arch)                                                \
    F(struct vcpu_info, time)                                                \
    S(struct arch_shared_info)                                               \
    F(struct arch_shared_info, max_pfn)                                      \
    F(struct arch_shared_info, pfn_to_mfn_frame_list_list)                   \
    F(struct arch_shared_info, nmi_reason)                                   \
    F(struct arch_shared_info, p2m_cr3)                                      \
    F(struct arch_shared_info, p2m_vaddr)                                    \
    F(struct arch_shared_info, p2m_generation)                               \
    S(struct shared_info)                                                    \
    F(struct shared_info, vcpu_info)                                         \
    F(struct shared_info, evtchn_pending)                                    \
    F(struct shared_info, evtchn_mask)                                       \
    F(struct shared_info, wc_version)                                        \
    F(struct shared_info, wc_sec)                                            \
    F(struct shared_info, wc_nsec)                                           \
    F(struct shared_info, xen_wc_sec_hi)                                     \
    F(struct shared_info, arch)                                              \
    /* version.h */                                                          \
    S(xen_extraversion_t)                                                    \
    S(xen_capabilities_info_t)                                               \
    S(xen_changeset_info_t)                                                  \
    S(xen_commandline_t)                                                     \
    S(xen_domain_handle_t)                                                   \
    S(struct xen_compile_info)                                               \
    F(struct xen_compile_info, compiler)                                     \
    F(struct xen_compile_info, compile_by)                                   \
    F(struct xen_compile_info, compile_domain)                               \
    F(struct xen_compile_info, compile_date)                                 \
    S(struct xen_platform_parameters)                                        \
    F(struct xen_platform_parameters, virt_start)                            \
    S(struct xen_feature_info)                                               \
    F(struct xen_feature_info, submap_idx)                                   \
    F(struct xen_feature_info, submap)                                       \
    S(struct xen_build_id)                                                   \
    F(struct xen_build_id, len)                                              \
    O(struct xen_build_id, buf)                                              \
    /* sched.h */                                                            \
    S(struct sched_shutdown)                                                 \
    F(struct sched_shutdown, reason)                                         \
    S(struct sched_poll)                                                     \
    F(struct sched_poll, ports)                                              \
    F(struct sched_poll, nr_ports)                                           \
    F(struct sched_poll, timeout)                                            \
    S(struct sched_remote_shutdown)                                          \
    F(struct sched_remote_shutdown, domain_id)                               \
    F(struct sched_remote_shutdown, reason)                                  \
    S(struct sched_watchdog)                                                 \
    F(struct sched_watchdog, id)                                             \
    F(struct sched_watchdog, timeout)                                        \
    S(struct sched_pin_override)                                             \
    F(struct sched_pin_override, pcpu)                                       \
    /* memory.h */                                                           \
    S(struct xen_memory_reservation)                                         \
    F(struct xen_memory_reservation, extent_start)                           \
    F(struct xen_memory_reservation, nr_extents)                             \
    F(struct xen_memory_reservation, extent_order)                           \
    F(struct xen_memory_reservation, mem_flags)                              \
    F(struct xen_memory_reservation, domid)                                  \
    S(struct xen_memory_exchange)                                            \
    F(struct xen_memory_exchange, in)                                        \
    F(struct xen_memory_exchange, out)                                       \
    F(struct xen_memory_exchange, nr_exchanged)                              \
    S(struct xen_add_to_physmap)                                             \
    F(struct xen_add_to_physmap, domid)                                      \
    F(struct xen_add_to_physmap, size)                                       \
    F(struct xen_add_to_physmap, space)                                      \
    F(struct xen_add_to_physmap, idx)                                        \
    F(struct xen_add_to_physmap, gpfn)                                       \
    S(struct xen_add_to_physmap_batch)                                       \
    F(struct xen_add_to_physmap_batch, domid)                                \
    F(struct xen_add_to_physmap_batch, space)                                \
    F(struct xen_add_to_physmap_batch, size)                                 \
    F(struct xen_add_to_physmap_batch, u.foreign_domid)                      \
    F(struct xen_add_to_physmap_batch, u.res0)                               \
    F(struct xen_add_to_physmap_batch, idxs)                                 \
    F(struct xen_add_to_physmap_batch, gpfns)                                \
    F(struct xen_add_to_physmap_batch, errs)                                 \
    S(struct xen_remove_from_physmap)                                        \
    F(struct xen_remove_from_physmap, domid)                                 \
    F(struct xen_remove_from_physmap, gpfn)                                  \
    S(struct xen_memory_map)                                                 \
    F(struct xen_memory_map, nr_entries)                                     \
    F(struct xen_memory_map, buffer)                                         \
    S(struct xen_foreign_memory_map)                                         \
    F(struct xen_foreign_memory_map, domid)                                  \
    F(struct xen_foreign_memory_map, map)                                    \
    /* hvm_op.h */                                                           \
    S(struct xen_hvm_param)                                                  \
    F(struct xen_hvm_param, domid)                                           \
    F(struct xen_hvm_param, pad)                                             \
    F(struct xen_hvm_param, index)                                           \
    F(struct xen_hvm_param, value)                                           \
    S(struct xen_hvm_pagetable_dying)                                        \
    F(struct xen_hvm_pagetable_dying, domid)                                 \
    F(struct xen_hvm_pagetable_dying, pad)                                   \
    F(struct xen_hvm_pagetable_dying, gpa)                                   \
    S(struct xen_hvm_get_time)                                               \
    F(struct xen_hvm_get_time, now)                                          \
    S(struct xen_hvm_get_mem_type)                                           \
    F(struct xen_hvm_get_mem_type, domid)                                    \
    F(struct xen_hvm_get_mem_type, mem_type)                                 \
    F(struct xen_hvm_get_mem_type, pad)                                      \
    F(struct xen_hvm_get_mem_type, pfn)                                      \
    S(struct xen_hvm_evtchn_upcall_vector)                                   \
    F(struct xen_hvm_evtchn_upcall_vector, vcpu)                             \
    F(struct xen_hvm_evtchn_upcall_vector, vector)                           \
    /* vcpu.h */                                                             \
    S(struct vcpu_runstate_info)                                             \
    F(struct vcpu_runstate_info, state)                                      \
    F(struct vcpu_runstate_info, state_entry_time)                           \
    F(struct vcpu_runstate_info, time)                                       \
    S(struct vcpu_register_runstate_memory_area)                             \
    F(struct vcpu_register_runstate_memory_area, addr)                       \
    F(struct vcpu_register_runstate_memory_area, addr.h)                     \
    F(struct vcpu_register_runstate_memory_area, addr.v)                     \
    F(struct vcpu_register_runstate_memory_area, addr.p)                     \
    S(struct vcpu_set_periodic_timer)                                        \
    F(struct vcpu_set_periodic_timer, period_ns)                             \
    S(struct vcpu_set_singleshot_timer)                                      \
    F(struct vcpu_set_singleshot_timer, timeout_abs_ns)                      \
    F(struct vcpu_set_singleshot_timer, flags)                               \
    S(struct vcpu_register_vcpu_info)                                        \
    F(struct vcpu_register_vcpu_info, mfn)                                   \
    F(struct vcpu_register_vcpu_info, offset)                                \
    F(struct vcpu_register_vcpu_info, rsvd)                                  \
    S(struct vcpu_get_physid)                                                \
    F(struct vcpu_get_physid, phys_id)                                       \
    S(struct vcpu_register_time_memory_area)                                 \
    F(struct vcpu_register_time_memory_area, addr.h)                         \
    F(struct vcpu_register_time_memory_area, addr.v)                         \
    F(struct vcpu_register_time_memory_area, addr.p)                         \
    S(struct vcpu_hvm_x86_32)                                                \
    F(struct vcpu_hvm_x86_32, eax)                                           \
    F(struct vcpu_hvm_x86_32, ecx)                                           \
    F(struct vcpu_hvm_x86_32, edx)                                           \
    F(struct vcpu_hvm_x86_32, ebx)                                           \
    F(struct vcpu_hvm_x86_32, esp)                                           \
    F(struct vcpu_hvm_x86_32, ebp)                                           \
    F(struct vcpu_hvm_x86_32, esi)                                           \
    F(struct vcpu_hvm_x86_32, edi)                                           \
    F(struct vcpu_hvm_x86_32, eip)                                           \
    F(struct vcpu_hvm_x86_32, eflags)                                        \
    F(struct vcpu_hvm_x86_32, cr0)                                           \
    F(struct vcpu_hvm_x86_32, cr3)                                           \
    F(struct vcpu_hvm_x86_32, cr4)                                           \
    F(struct vcpu_hvm_x86_32, pad1)                                          \
    F(struct vcpu_hvm_x86_32, efer)                                          \
    F(struct vcpu_hvm_x86_32, cs_base)                                       \
    F(struct vcpu_hvm_x86_32, ds_base)                                       \
    F(struct vcpu_hvm_x86_32, ss_base)                                       \
    F(struct vcpu_hvm_x86_32, es_base)                                       \
    F(struct vcpu_hvm_x86_32, tr_base)                                       \
    F(struct vcpu_hvm_x86_32, cs_limit)                                      \
    F(struct vcpu_hvm_x86_32, ds_limit)                                      \
    F(struct vcpu_hvm_x86_32, ss_limit)                                      \
    F(struct vcpu_hvm_x86_32, es_limit)                                      \
    F(struct vcpu_hvm_x86_32, tr_limit)                                      \
    F(struct vcpu_hvm_x86_32, cs_ar)                                         \
    F(struct vcpu_hvm_x86_32, ds_ar)                                         \
    F(struct vcpu_hvm_x86_32, ss_ar)                                         \
    F(struct vcpu_hvm_x86_32, es_ar)                                         \
    F(struct vcpu_hvm_x86_32, tr_ar)                                         \
    F(struct vcpu_hvm_x86_32, pad2)                                          \
    S(struct vcpu_hvm_x86_64)                                                \
    F(struct vcpu_hvm_x86_64, rax)                                           \
    F(struct vcpu_hvm_x86_64, rcx)                                           \
    F(struct vcpu_hvm_x86_64, rdx)                                           \
    F(struct vcpu_hvm_x86_64, rbx)                                           \
    F(struct vcpu_hvm_x86_64, rsp)                                           \
    F(struct vcpu_hvm_x86_64, rbp)                                           \
    F(struct vcpu_hvm_x86_64, rsi)                                           \
    F(struct vcpu_hvm_x86_64, rdi)                                           \
    F(struct vcpu_hvm_x86_64, rip)                                           \
    F(struct vcpu_hvm_x86_64, rflags)                                        \
    F(struct vcpu_hvm_x86_64, cr0)                                           \
    F(struct vcpu_hvm_x86_64, cr3)                                           \
    F(struct vcpu_hvm_x86_64, cr4)                                           \
    F(struct vcpu_hvm_x86_64, efer)                                          \
    S(struct vcpu_hvm_context)                                               \
    F(struct vcpu_hvm_context, mode)                                         \
    F(struct vcpu_hvm_context, pad)                                          \
    F(struct vcpu_hvm_context, cpu_regs)                                     \
    F(struct vcpu_hvm_context, cpu_regs.x86_32)                              \
    F(struct vcpu_hvm_context, cpu_regs.x86_64)                              \
    /* event_channel.h */                                                    \
    S(evtchn_port_t)                                                         \
    S(struct evtchn_alloc_unbound)                                           \
    F(struct evtchn_alloc_unbound, dom)                                      \
    F(struct evtchn_alloc_unbound, remote_dom)                               \
    F(struct evtchn_alloc_unbound, port)                                     \
    S(struct evtchn_bind_interdomain)                                        \
    F(struct evtchn_bind_interdomain, remote_dom)                            \
    F(struct evtchn_bind_interdomain, remote_port)                           \
    F(struct evtchn_bind_interdomain, local_port)                            \
    S(struct evtchn_bind_virq)                                               \
    F(struct evtchn_bind_virq, virq)                                         \
    F(struct evtchn_bind_virq, vcpu)                                         \
    F(struct evtchn_bind_virq, port)                                         \
    S(struct evtchn_bind_pirq)                                               \
    F(struct evtchn_bind_pirq, pirq)                                         \
    F(struct evtchn_bind_pirq, flags)                                        \
    F(struct evtchn_bind_pirq, port)                                         \
    S(struct evtchn_bind_ipi)                                                \
    F(struct evtchn_bind_ipi, vcpu)                                          \
    F(struct evtchn_bind_ipi, port)                                          \
    S(struct evtchn_close)                                                   \
    F(struct evtchn_close, port)                                             \
    S(struct evtchn_send)                                                    \
    F(struct evtchn_send, port)                                              \
    S(struct evtchn_status)                                                  \
    F(struct evtchn_status, dom)                                             \
    F(struct evtchn_status, port)                                            \
    F(struct evtchn_status, status)                                          \
    F(struct evtchn_status, vcpu)                                            \
    F(struct evtchn_status, u)                                               \
    F(struct evtchn_status, u.unbound.dom)                                   \
    F(struct evtchn_status, u.interdomain.dom)                               \
    F(struct evtchn_status, u.interdomain.port)                              \
    F(struct evtchn_status, u.pirq)                                          \
    F(struct evtchn_status, u.virq)                                          \
    S(struct evtchn_bind_vcpu)                                               \
    F(struct evtchn_bind_vcpu, port)                                         \
    F(struct evtchn_bind_vcpu, vcpu)                                         \
    S(struct evtchn_unmask)                                                  \
    F(struct evtchn_unmask, port)                                            \
    S(struct evtchn_reset)                                                   \
    F(struct evtchn_reset, dom)                                              \
    S(struct evtchn_init_control)                                            \
    F(struct evtchn_init_control, control_gfn)                               \
    F(struct evtchn_init_control, offset)                                    \
    F(struct evtchn_init_control, vcpu)                                      \
    F(struct evtchn_init_control, link_bits)                                 \
    F(struct evtchn_init_control, _pad)                                      \
    S(struct evtchn_expand_array)                                            \
    F(struct evtchn_expand_array, array_gfn)                                 \
    S(struct evtchn_set_priority)                                            \
    F(struct evtchn_set_priority, port)                                      \
    F(struct evtchn_set_priority, priority)                                  \
    S(event_word_t)                                                          \
    S(struct evtchn_fifo_control_block)                                      \
    F(struct evtchn_fifo_control_block, ready)                               \
    F(struct evtchn_fifo_control_block, _rsvd)                               \
    F(struct evtchn_fifo_control_block, head)                                \
    S(struct evtchn_op)                                                      \
    F(struct evtchn_op, cmd)                                                 \
    F(struct evtchn_op, u)                                                   \
    /* grant_table.h */                                                      \
    S(grant_ref_t)                                                           \
    S(grant_handle_t)                                                        \
    S(struct grant_entry_v1)                                                 \
    F(struct grant_entry_v1, flags)                                          \
    F(struct grant_entry_v1, domid)                                          \
    F(struct grant_entry_v1, frame)                                          \
    S(struct gnttab_map_grant_ref)                                           \
    F(struct gnttab_map_grant_ref, host_addr)                                \
    F(struct gnttab_map_grant_ref, flags)                                    \
    F(struct gnttab_map_grant_ref, ref)                                      \
    F(struct gnttab_map_grant_ref, dom)                                      \
    F(struct gnttab_map_grant_ref, status)                                   \
    F(struct gnttab_map_grant_ref, handle)                                   \
    F(struct gnttab_map_grant_ref, dev_bus_addr)                             \
    S(struct gnttab_unmap_grant_ref)                                         \
    F(struct gnttab_unmap_grant_ref, host_addr)                              \
    F(struct gnttab_unmap_grant_ref, dev_bus_addr)                           \
    F(struct gnttab_unmap_grant_ref, handle)                                 \
    F(struct gnttab_unmap_grant_ref, status)                                 \
    S(struct gnttab_setup_table)                                             \
    F(struct gnttab_setup_table, dom)                                        \
    F(struct gnttab_setup_table, nr_frames)                                  \
    F(struct gnttab_setup_table, status)                                     \
    F(struct gnttab_setup_table, frame_list)                                 \
    S(struct gnttab_dump_table)                                              \
    F(struct gnttab_dump_table, dom)                                         \
    F(struct gnttab_dump_table, status)                                      \
    S(struct gnttab_transfer)                                                \
    F(struct gnttab_transfer, mfn)                                           \
    F(struct gnttab_transfer, domid)                                         \
    F(struct gnttab_transfer, ref)                                           \
    F(struct gnttab_transfer, status)                                        \
    S(struct gnttab_copy_ptr)                                                \
    F(struct gnttab_copy_ptr, u.ref)                                         \
    F(struct gnttab_copy_ptr, u.gmfn)                                        \
    F(struct gnttab_copy_ptr, domid)                                         \
    F(struct gnttab_copy_ptr, offset)                                        \
    S(struct gnttab_copy)                                                    \
    F(struct gnttab_copy, source)                                            \
    F(struct gnttab_copy, dest)                                              \
    F(struct gnttab_copy, len)                                               \
    F(struct gnttab_copy, flags)                                             \
    F(struct gnttab_copy, status)                                            \
    S(struct gnttab_query_size)                                              \
    F(struct gnttab_query_size, dom)                                         \
    F(struct gnttab_query_size, nr_frames)                                   \
    F(struct gnttab_query_size, max_nr_frames)                               \
    F(struct gnttab_query_size, status)                                      \
    S(struct gnttab_unmap_and_replace)                                       \
    F(struct gnttab_unmap_and_replace, host_addr)                            \
    F(struct gnttab_unmap_and_replace, new_addr)                             \
    F(struct gnttab_unmap_and_replace, handle)                               \
    F(struct gnttab_unmap_and_replace, status)                               \
    S(struct gnttab_set_version)                                             \
    F(struct gnttab_set_version, version)                                    \
    S(struct gnttab_get_status_frames)                                       \
    F(struct gnttab_get_status_frames, nr_frames)                            \
    F(struct gnttab_get_status_frames, dom)                                  \
    F(struct gnttab_get_status_frames, status)                               \
    F(struct gnttab_get_status_frames, frame_list)                           \
    S(struct gnttab_get_version)                                             \
    F(struct gnttab_get_version, dom)                                        \
    F(struct gnttab_get_version, pad)                                        \
    F(struct gnttab_get_version, version)                                    \
    S(struct gnttab_swap_grant_ref)                                          \
    F(struct gnttab_swap_grant_ref, ref_a)                                   \
    F(struct gnttab_swap_grant_ref, ref_b)                                   \
    F(struct gnttab_swap_grant_ref, status)                                  \
    /* console.h */                                                          \
    S(struct xencons_interface)                                              \
    F(struct xencons_interface, in)                                          \
    F(struct xencons_interface, out)                                         \
    F(struct xencons_interface, in_cons)                                     \
    F(struct xencons_interface, in_prod)                                     \
    F(struct xencons_interface, out_cons)                                    \
    F(struct xencons_interface, out_prod)                                    \
    /* xenstore.h */                                                         \
    S(struct xsd_sockmsg)                                                    \
    F(struct xsd_sockmsg, type)                                              \
    F(struct xsd_sockmsg, req_id)                                            \
    F(struct xsd_sockmsg, tx_id)                                             \
    F(struct xsd_sockmsg, len)                                               \
    S(struct xenstore_domain_interface)                                      \
    F(struct xenstore_domain_interface, req)                                 \
    F(struct xenstore_domain_interface, rsp)                                 \
    F(struct xenstore_domain_interface, req_cons)                            \
    F(struct xenstore_domain_interface, req_prod)                            \
    F(struct xenstore_domain_interface, rsp_cons)                            \
    F(struct xenstore_domain_interface, rsp_prod)                            \
    F(struct xenstore_domain_interface, server_features)                     \
    F(struct xenstore_domain_interface, connection)                          \
    F(struct xenstore_domain_interface, error)                               \
    /* ring.h, via the rings of blkif.h and netif.h */                       \
    S(RING_IDX)                                                              \
    ABI_LAYOUT_SRING(S, F, O, blkif)                                         \
    ABI_LAYOUT_SRING(S, F, O, netif_tx)                                      \
    ABI_LAYOUT_SRING(S, F, O, netif_rx)                                      \
    /* blkif.h */                                                            \
    S(blkif_vdev_t)                                                          \
    S(blkif_sector_t)                                                        \
    S(struct blkif_request_segment)                                          \
    F(struct blkif_request_segment, gref)                                    \
    F(struct blkif_request_segment, first_sect)                              \
    F(struct blkif_request_segment, last_sect)                               \
    S(struct blkif_request)                                                  \
    F(struct blkif_request, operation)                                       \
    F(struct blkif_request, nr_segments)                                     \
    F(struct blkif_request, handle)                                          \
    F(struct blkif_request, id)                                              \
    F(struct blkif_request, sector_number)                                   \
    F(struct blkif_request, seg)                                             \
    S(struct blkif_request_discard)                                          \
    F(struct blkif_request_discard, operation)                               \
    F(struct blkif_request_discard, flag)                                    \
    F(struct blkif_request_discard, handle)                                  \
    F(struct blkif_request_discard, id)                                      \
    F(struct blkif_request_discard, sector_number)                           \
    F(struct blkif_request_discard, nr_sectors)                              \
    S(struct blkif_request_indirect)                                         \
    F(struct blkif_request_indirect, operation)                              \
    F(struct blkif_request_indirect, indirect_op)                            \
    F(struct blkif_request_indirect, nr_segments)                            \
    F(struct blkif_request_indirect, id)                                     \
    F(struct blkif_request_indirect, sector_number)                          \
    F(struct blkif_request_indirect, handle)                                 \
    F(struct blkif_request_indirect, indirect_grefs)                         \
    S(struct blkif_response)                                                 \
    F(struct blkif_response, id)                                             \
    F(struct blkif_response, operation)                                      \
    F(struct blkif_response, status)                                         \
    /* netif.h */                                                            \
    S(struct netif_tx_request)                                               \
    F(struct netif_tx_request, gref)                                         \
    F(struct netif_tx_request, offset)                                       \
    F(struct netif_tx_request, flags)                                        \
    F(struct netif_tx_request, id)                                           \
    F(struct netif_tx_request, size)                                         \
    S(struct netif_extra_info)                                               \
    F(struct netif_extra_info, type)                                         \
    F(struct netif_extra_info, flags)                                        \
    F(struct netif_extra_info, u)                                            \
    F(struct netif_extra_info, u.gso.size)                                   \
    F(struct netif_extra_info, u.gso.type)                                   \
    F(struct netif_extra_info, u.gso.pad)                                    \
    F(struct netif_extra_info, u.gso.features)                               \
    F(struct netif_extra_info, u.mcast.addr)                                 \
    F(struct netif_extra_info, u.hash.type)                                  \
    F(struct netif_extra_info, u.hash.algorithm)                             \
    F(struct netif_extra_info, u.hash.value)                                 \
    F(struct netif_extra_info, u.pad)                                        \
    S(struct netif_tx_response)                                              \
    F(struct netif_tx_response, id)                                          \
    F(struct netif_tx_response, status)                                      \
    S(struct netif_rx_request)                                               \
    F(struct netif_rx_request, id)                                           \
    F(struct netif_rx_request, pad)                                          \
    F(struct netif_rx_request, gref)                                         \
    S(struct netif_rx_response)                                              \
    F(struct netif_rx_response, id)                                          \
    F(struct netif_rx_response, offset)                                      \
    F(struct netif_rx_response, flags)                                       \
    F(struct netif_rx_response, status)

/* The shared header and slot of one ring type (the header's pad is private to each side's naming). */
#define ABI_LAYOUT_SRING(S, F, O, name)                                      \
    S(union name##_sring_entry)                                              \
    F(union name##_sring_entry, req)                                         \
    F(union name##_sring_entry, rsp)                                         \
    F(struct name##_sring, req_prod)                                         \
    F(struct name##_sring, req_event)                                        \
    F(struct name##_sring, rsp_prod)                                         \
    F(struct name##_sring, rsp_event)                                        \
    F(struct name##_sring, pvt)                                              \
    F(struct name##_sring, pvt.pvt_pad)                                      \
    F(struct name##_sring, pvt.netif.smartpoll_active)                       \
    O(struct name##_sring, ring)

/* Constants whose values are part of the ABI. */
#define ABI_CONST_LIST(C)                                                    \
    C(XEN_HVM_START_MAGIC_VALUE)                                             \
    C(XEN_HVM_MEMMAP_TYPE_RAM) C(XEN_HVM_MEMMAP_TYPE_RESERVED)               \
    C(XEN_HVM_MEMMAP_TYPE_ACPI) C(XEN_HVM_MEMMAP_TYPE_NVS)                   \
    C(XEN_HVM_MEMMAP_TYPE_UNUSABLE) C(XEN_HVM_MEMMAP_TYPE_DISABLED)          \
    C(XEN_HVM_MEMMAP_TYPE_PMEM)                                              \
    C(SIF_PRIVILEGED) C(SIF_INITDOMAIN) C(SIF_MULTIBOOT_MOD)                 \
    C(SIF_MOD_START_PFN) C(SIF_VIRT_P2M_4TOOLS) C(SIF_PM_MASK)               \
    C(XEN_ELFNOTE_INFO) C(XEN_ELFNOTE_ENTRY) C(XEN_ELFNOTE_HYPERCALL_PAGE)   \
    C(XEN_ELFNOTE_VIRT_BASE) C(XEN_ELFNOTE_PADDR_OFFSET)                     \
    C(XEN_ELFNOTE_XEN_VERSION) C(XEN_ELFNOTE_GUEST_OS)                       \
    C(XEN_ELFNOTE_GUEST_VERSION) C(XEN_ELFNOTE_LOADER)                       \
    C(XEN_ELFNOTE_PAE_MODE) C(XEN_ELFNOTE_FEATURES)                          \
    C(XEN_ELFNOTE_BSD_SYMTAB) C(XEN_ELFNOTE_HV_START_LOW)                    \
    C(XEN_ELFNOTE_L1_MFN_VALID) C(XEN_ELFNOTE_SUSPEND_CANCEL)                \
    C(XEN_ELFNOTE_INIT_P2M) C(XEN_ELFNOTE_MOD_START_PFN)                     \
    C(XEN_ELFNOTE_SUPPORTED_FEATURES) C(XEN_ELFNOTE_PHYS32_ENTRY)            \
    C(XEN_ELFNOTE_MAX) C(XEN_ELFNOTE_CRASH_INFO) C(XEN_ELFNOTE_CRASH_REGS)   \
    C(XEN_ELFNOTE_DUMPCORE_NONE) C(XEN_ELFNOTE_DUMPCORE_HEADER)              \
    C(XEN_ELFNOTE_DUMPCORE_XEN_VERSION)                                      \
    C(XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION)                                   \
    C(XEN_EPERM) C(XEN_ENOENT) C(XEN_ESRCH) C(XEN_EIO) C(XEN_ENXIO)          \
    C(XEN_E2BIG) C(XEN_ENOEXEC) C(XEN_EBADF) C(XEN_ECHILD) C(XEN_EAGAIN)     \
    C(XEN_EWOULDBLOCK) C(XEN_ENOMEM) C(XEN_EACCES) C(XEN_EFAULT)             \
    C(XEN_EBUSY) C(XEN_EEXIST) C(XEN_EXDEV) C(XEN_ENODEV) C(XEN_ENOTDIR)     \
    C(XEN_EISDIR) C(XEN_EINVAL) C(XEN_ENFILE) C(XEN_EMFILE) C(XEN_ENOSPC)    \
    C(XEN_EROFS) C(XEN_EMLINK) C(XEN_EDOM) C(XEN_ERANGE) C(XEN_EDEADLK)      \
    C(XEN_EDEADLOCK) C(XEN_ENAMETOOLONG) C(XEN_ENOLCK) C(XEN_ENOSYS)         \
    C(XEN_ENOTEMPTY) C(XEN_ENODATA) C(XEN_ETIME) C(XEN_EBADMSG)              \
    C(XEN_EOVERFLOW) C(XEN_EILSEQ) C(XEN_ENOTSOCK) C(XEN_EMSGSIZE)           \
    C(XEN_EOPNOTSUPP) C(XEN_EADDRINUSE) C(XEN_EADDRNOTAVAIL) C(XEN_ENOBUFS)  \
    C(XEN_EISCONN) C(XEN_ENOTCONN) C(XEN_ETIMEDOUT) C(XEN_ECONNREFUSED)      \
    C(__HYPERVISOR_set_trap_table) C(__HYPERVISOR_mmu_update)                \
    C(__HYPERVISOR_set_gdt) C(__HYPERVISOR_stack_switch)                     \
    C(__HYPERVISOR_set_callbacks) C(__HYPERVISOR_fpu_taskswitch)             \
    C(__HYPERVISOR_sched_op_compat) C(__HYPERVISOR_platform_op)              \
    C(__HYPERVISOR_set_debugreg) C(__HYPERVISOR_get_debugreg)                \
    C(__HYPERVISOR_update_descriptor) C(__HYPERVISOR_memory_op)              \
    C(__HYPERVISOR_multicall) C(__HYPERVISOR_update_va_mapping)              \
    C(__HYPERVISOR_set_timer_op) C(__HYPERVISOR_event_channel_op_compat)     \
    C(__HYPERVISOR_xen_version) C(__HYPERVISOR_console_io)                   \
    C(__HYPERVISOR_physdev_op_compat) C(__HYPERVISOR_grant_table_op)         \
    C(__HYPERVISOR_vm_assist) C(__HYPERVISOR_update_va_mapping_otherdomain)  \
    C(__HYPERVISOR_iret) C(__HYPERVISOR_vcpu_op)                             \
    C(__HYPERVISOR_set_segment_base) C(__HYPERVISOR_mmuext_op)               \
    C(__HYPERVISOR_xsm_op) C(__HYPERVISOR_nmi_op) C(__HYPERVISOR_sched_op)   \
    C(__HYPERVISOR_callback_op) C(__HYPERVISOR_xenoprof_op)                  \
    C(__HYPERVISOR_event_channel_op) C(__HYPERVISOR_physdev_op)              \
    C(__HYPERVISOR_hvm_op) C(__HYPERVISOR_sysctl) C(__HYPERVISOR_domctl)     \
    C(__HYPERVISOR_kexec_op) C(__HYPERVISOR_tmem_op) C(__HYPERVISOR_argo_op) \
    C(__HYPERVISOR_xenpmu_op) C(__HYPERVISOR_dm_op) C(__HYPERVISOR_hypfs_op) \
    C(__HYPERVISOR_arch_0) C(__HYPERVISOR_arch_1) C(__HYPERVISOR_arch_2)     \
    C(__HYPERVISOR_arch_3) C(__HYPERVISOR_arch_4) C(__HYPERVISOR_arch_5)     \
    C(__HYPERVISOR_arch_6) C(__HYPERVISOR_arch_7)                            \
    C(VIRQ_TIMER) C(VIRQ_DEBUG) C(VIRQ_CONSOLE) C(VIRQ_DOM_EXC) C(VIRQ_TBUF) \
    C(VIRQ_DEBUGGER) C(VIRQ_XENOPROF) C(VIRQ_CON_RING) C(VIRQ_PCPU_STATE)    \
    C(VIRQ_MEM_EVENT) C(VIRQ_ARGO) C(VIRQ_ENOMEM) C(VIRQ_XENPMU)             \
    C(VIRQ_ARCH_0) C(VIRQ_ARCH_7) C(NR_VIRQS)                                \
    C(VMASST_CMD_enable) C(VMASST_CMD_disable)                               \
    C(VMASST_TYPE_4gb_segments) C(VMASST_TYPE_4gb_segments_notify)           \
    C(VMASST_TYPE_writable_pagetables) C(VMASST_TYPE_pae_extended_cr3)       \
    C(VMASST_TYPE_architectural_iopl) C(VMASST_TYPE_runstate_update_flag)    \
    C(VMASST_TYPE_m2p_strict)                                                \
    C(DOMID_FIRST_RESERVED) C(DOMID_SELF) C(DOMID_IO) C(DOMID_XEN)           \
    C(DOMID_COW) C(DOMID_INVALID) C(DOMID_IDLE) C(DOMID_MASK)                \
    C(XEN_HVM_DEBUGCONS_IOPORT) C(XEN_LEGACY_MAX_VCPUS)                      \
    C(XEN_PVCLOCK_TSC_STABLE_BIT) C(XEN_PVCLOCK_GUEST_STOPPED)               \
    C(CONSOLEIO_write) C(CONSOLEIO_read)                                     \
    C(XENVER_version) C(XENVER_extraversion) C(XENVER_compile_info)          \
    C(XENVER_capabilities) C(XENVER_changeset)                               \
    C(XENVER_platform_parameters) C(XENVER_get_features) C(XENVER_pagesize)  \
    C(XENVER_guest_handle) C(XENVER_commandline) C(XENVER_build_id)          \
    C(XEN_EXTRAVERSION_LEN) C(XEN_CAPABILITIES_INFO_LEN)                     \
    C(XEN_CHANGESET_INFO_LEN)                                                \
    C(XENFEAT_writable_page_tables) C(XENFEAT_writable_descriptor_tables)    \
    C(XENFEAT_auto_translated_physmap) C(XENFEAT_supervisor_mode_kernel)     \
    C(XENFEAT_pae_pgdir_above_4gb) C(XENFEAT_mmu_pt_update_preserve_ad)      \
    C(XENFEAT_highmem_assist) C(XENFEAT_gnttab_map_avail_bits)               \
    C(XENFEAT_hvm_callback_vector) C(XENFEAT_hvm_safe_pvclock)               \
    C(XENFEAT_hvm_pirqs) C(XENFEAT_dom0)       \
    C(XENFEAT_memory_op_vnode_supported) C(XENFEAT_ARM_SMCCC_supported)      \
    C(XENFEAT_linux_rsdp_unrestricted) C(XENFEAT_not_direct_mapped)          \
    C(XENFEAT_direct_mapped) C(XENFEAT_NR_SUBMAPS)                           \
    C(SCHEDOP_yield) C(SCHEDOP_block) C(SCHEDOP_shutdown) C(SCHEDOP_poll)    \
    C(SCHEDOP_remote_shutdown) C(SCHEDOP_shutdown_code) C(SCHEDOP_watchdog)  \
    C(SCHEDOP_pin_override)                                                  \
    C(SHUTDOWN_poweroff) C(SHUTDOWN_reboot) C(SHUTDOWN_suspend)              \
    C(SHUTDOWN_crash) C(SHUTDOWN_watchdog) C(SHUTDOWN_soft_reset)            \
    C(SHUTDOWN_MAX)                                                          \
    C(XENMEM_increase_reservation) C(XENMEM_decrease_reservation)            \
    C(XENMEM_maximum_ram_page) C(XENMEM_current_reservation)                 \
    C(XENMEM_maximum_reservation) C(XENMEM_machphys_mfn_list)                \
    C(XENMEM_populate_physmap) C(XENMEM_add_to_physmap)                      \
    C(XENMEM_memory_map) C(XENMEM_machine_memory_map) C(XENMEM_exchange)     \
    C(XENMEM_machphys_mapping) C(XENMEM_set_memory_map)                      \
    C(XENMEM_maximum_gpfn) C(XENMEM_remove_from_physmap)                     \
    C(XENMEM_set_pod_target) C(XENMEM_get_pod_target)                        \
    C(XENMEM_add_to_physmap_batch) C(XENMEM_machphys_compat_mfn_list)        \
    C(XENMEM_get_vnumainfo) C(XENMEM_acquire_resource)                       \
    C(XENMEMF_populate_on_demand) C(XENMEMF_exact_node_request)              \
    C(XENMEMF_vnode) C(XENMEMF_node(3)) C(XENMEMF_get_node(0x400))           \
    C(XENMEMF_address_bits(32)) C(XENMEMF_get_address_bits(0x1220))          \
    C(XENMAPSPACE_shared_info) C(XENMAPSPACE_grant_table)                    \
    C(XENMAPSPACE_gmfn) C(XENMAPSPACE_gmfn_range)                            \
    C(XENMAPSPACE_gmfn_foreign) C(XENMAPSPACE_dev_mmio)                      \
    C(XENMAPIDX_grant_table_status)                                          \
    /* grant_table.h */                                                      \
    C(GNTTAB_NR_RESERVED_ENTRIES) C(GNTTAB_RESERVED_CONSOLE)                 \
    C(GNTTAB_RESERVED_XENSTORE) C(GTF_invalid) C(GTF_permit_access)          \
    C(GTF_accept_transfer) C(GTF_transitive) C(GTF_type_mask)                \
    C(_GTF_readonly) C(GTF_readonly) C(_GTF_reading) C(GTF_reading)          \
    C(_GTF_writing) C(GTF_writing) C(_GTF_PWT) C(GTF_PWT) C(_GTF_PCD)        \
    C(GTF_PCD) C(_GTF_PAT) C(GTF_PAT) C(_GTF_sub_page) C(GTF_sub_page)       \
    C(_GTF_transfer_committed) C(GTF_transfer_committed)                     \
    C(_GTF_transfer_completed) C(GTF_transfer_completed)                     \
    C(GNTTABOP_map_grant_ref) C(GNTTABOP_unmap_grant_ref)                    \
    C(GNTTABOP_setup_table) C(GNTTABOP_dump_table) C(GNTTABOP_transfer)      \
    C(GNTTABOP_copy) C(GNTTABOP_query_size) C(GNTTABOP_unmap_and_replace)    \
    C(GNTTABOP_set_version) C(GNTTABOP_get_status_frames)                    \
    C(GNTTABOP_get_version) C(GNTTABOP_swap_grant_ref)                       \
    C(GNTTABOP_cache_flush) C(GNTST_okay) C(GNTST_general_error)             \
    C(GNTST_bad_domain) C(GNTST_bad_gntref) C(GNTST_bad_handle)              \
    C(GNTST_bad_virt_addr) C(GNTST_bad_dev_addr) C(GNTST_no_device_space)    \
    C(GNTST_permission_denied) C(GNTST_bad_page) C(GNTST_bad_copy_arg)       \
    C(GNTST_address_too_big) C(GNTST_eagain) C(GNTST_no_space)               \
    C(_GNTMAP_device_map) C(GNTMAP_device_map) C(_GNTMAP_host_map)           \
    C(GNTMAP_host_map) C(_GNTMAP_readonly) C(GNTMAP_readonly)                \
    C(_GNTMAP_application_map) C(GNTMAP_application_map)                     \
    C(_GNTMAP_contains_pte) C(GNTMAP_contains_pte) C(_GNTMAP_guest_avail0)   \
    C(GNTMAP_guest_avail_mask) C(_GNTCOPY_source_gref)                       \
    C(GNTCOPY_source_gref) C(_GNTCOPY_dest_gref) C(GNTCOPY_dest_gref)        \
    C(HVMOP_set_param) C(HVMOP_get_param) C(HVMOP_flush_tlbs)                \
    C(HVMOP_pagetable_dying) C(HVMOP_get_time) C(HVMOP_xentrace)             \
    C(HVMOP_get_mem_type) C(HVMOP_set_evtchn_upcall_vector)                  \
    C(HVMOP_guest_request_vm_event) C(HVMOP_altp2m)                          \
    C(HVMMEM_ram_rw) C(HVMMEM_ram_ro) C(HVMMEM_mmio_dm) C(HVMMEM_unused)     \
    C(HVMMEM_ioreq_server)                                                   \
    C(HVM_PARAM_CALLBACK_IRQ) C(HVM_PARAM_CALLBACK_IRQ_TYPE_MASK)            \
    C(HVM_PARAM_CALLBACK_TYPE_GSI) C(HVM_PARAM_CALLBACK_TYPE_PCI_INTX)       \
    C(HVM_PARAM_CALLBACK_TYPE_VECTOR)                                        \
    C(HVM_PARAM_STORE_PFN) C(HVM_PARAM_STORE_EVTCHN) C(HVM_PARAM_IOREQ_PFN)  \
    C(HVM_PARAM_BUFIOREQ_PFN) C(HVM_PARAM_VIRIDIAN) C(HVM_PARAM_TIMER_MODE)  \
    C(HVM_PARAM_HPET_ENABLED) C(HVM_PARAM_IDENT_PT)                          \
    C(HVM_PARAM_ACPI_S_STATE) C(HVM_PARAM_VM86_TSS) C(HVM_PARAM_VPT_ALIGN)   \
    C(HVM_PARAM_CONSOLE_PFN) C(HVM_PARAM_CONSOLE_EVTCHN)                     \
    C(HVM_PARAM_ACPI_IOPORTS_LOCATION) C(HVM_PARAM_PAGING_RING_PFN)          \
    C(HVM_PARAM_MONITOR_RING_PFN) C(HVM_PARAM_SHARING_RING_PFN)              \
    C(HVM_PARAM_TRIPLE_FAULT_REASON) C(HVM_PARAM_IOREQ_SERVER_PFN)           \
    C(HVM_PARAM_NR_IOREQ_SERVER_PAGES) C(HVM_PARAM_VM_GENERATION_ID_ADDR)    \
    C(HVM_PARAM_ALTP2M) C(HVM_PARAM_X87_FIP_WIDTH)                           \
    C(HVM_PARAM_VM86_TSS_SIZED) C(HVM_PARAM_MCA_CAP) C(HVM_NR_PARAMS)        \
    C(VCPUOP_initialise) C(VCPUOP_up) C(VCPUOP_down) C(VCPUOP_is_up)         \
    C(VCPUOP_get_runstate_info) C(VCPUOP_register_runstate_memory_area)      \
    C(VCPUOP_set_periodic_timer) C(VCPUOP_stop_periodic_timer)               \
    C(VCPUOP_set_singleshot_timer) C(VCPUOP_stop_singleshot_timer)           \
    C(VCPUOP_register_vcpu_info) C(VCPUOP_send_nmi) C(VCPUOP_get_physid)     \
    C(VCPUOP_register_vcpu_time_memory_area)                                 \
    C(RUNSTATE_running) C(RUNSTATE_runnable) C(RUNSTATE_blocked)             \
    C(RUNSTATE_offline) C(XEN_RUNSTATE_UPDATE) C(VCPU_SSHOTTMR_future)       \
    C(VCPU_HVM_MODE_32B) C(VCPU_HVM_MODE_64B)                                \
    C(XEN_CPUID_FIRST_LEAF) C(XEN_CPUID_LEAF(4))                             \
    C(XEN_CPUID_SIGNATURE_EBX) C(XEN_CPUID_SIGNATURE_ECX)                    \
    C(XEN_CPUID_SIGNATURE_EDX) C(XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD)  \
    C(XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK)                                  \
    C(XEN_HVM_CPUID_APIC_ACCESS_VIRT) C(XEN_HVM_CPUID_X2APIC_VIRT)           \
    C(XEN_HVM_CPUID_IOMMU_MAPPINGS) C(XEN_HVM_CPUID_VCPU_ID_PRESENT)         \
    C(XEN_HVM_CPUID_DOMID_PRESENT) C(XEN_HVM_CPUID_EXT_DEST_ID)              \
    C(XEN_HVM_CPUID_UPCALL_VECTOR) C(XEN_CPUID_MAX_NUM_LEAVES)               \
    C(EVTCHNOP_bind_interdomain) C(EVTCHNOP_bind_virq)                       \
    C(EVTCHNOP_bind_pirq) C(EVTCHNOP_close) C(EVTCHNOP_send)                 \
    C(EVTCHNOP_status) C(EVTCHNOP_alloc_unbound) C(EVTCHNOP_bind_ipi)        \
    C(EVTCHNOP_bind_vcpu) C(EVTCHNOP_unmask) C(EVTCHNOP_reset)               \
    C(EVTCHNOP_init_control) C(EVTCHNOP_expand_array)                        \
    C(EVTCHNOP_set_priority)                                                 \
    C(EVTCHN_FIFO_PRIORITY_MAX) C(EVTCHN_FIFO_PRIORITY_DEFAULT)              \
    C(EVTCHN_FIFO_PRIORITY_MIN) C(EVTCHN_FIFO_MAX_QUEUES)                    \
    C(EVTCHN_FIFO_PENDING) C(EVTCHN_FIFO_MASKED) C(EVTCHN_FIFO_LINKED)       \
    C(EVTCHN_FIFO_BUSY) C(EVTCHN_FIFO_LINK_BITS) C(EVTCHN_FIFO_LINK_MASK)    \
    C(EVTCHN_FIFO_NR_CHANNELS)                                               \
    C(EVTCHNSTAT_closed) C(EVTCHNSTAT_unbound) C(EVTCHNSTAT_interdomain)     \
    C(EVTCHNSTAT_pirq) C(EVTCHNSTAT_virq) C(EVTCHNSTAT_ipi)                  \
    C(BIND_PIRQ__WILL_SHARE) C(EVTCHN_2L_NR_CHANNELS)                        \
    C(GNTTAB_NR_RESERVED_ENTRIES) C(GNTTAB_RESERVED_CONSOLE)                 \
    C(GNTTAB_RESERVED_XENSTORE)                                              \
    C(GTF_invalid) C(GTF_permit_access) C(GTF_accept_transfer)               \
    C(GTF_transitive) C(GTF_type_mask) C(GTF_readonly) C(GTF_reading)        \
    C(GTF_writing) C(GTF_PWT) C(GTF_PCD) C(GTF_PAT) C(GTF_sub_page)          \
    C(GTF_transfer_committed) C(GTF_transfer_completed)                      \
    C(GNTTABOP_map_grant_ref) C(GNTTABOP_unmap_grant_ref)                    \
    C(GNTTABOP_setup_table) C(GNTTABOP_dump_table) C(GNTTABOP_transfer)      \
    C(GNTTABOP_copy) C(GNTTABOP_query_size) C(GNTTABOP_unmap_and_replace)    \
    C(GNTTABOP_set_version) C(GNTTABOP_get_status_frames)                    \
    C(GNTTABOP_get_version) C(GNTTABOP_swap_grant_ref)                       \
    C(GNTTABOP_cache_flush)                                                  \
    C(GNTST_okay) C(GNTST_general_error) C(GNTST_bad_domain)                 \
    C(GNTST_bad_gntref) C(GNTST_bad_handle) C(GNTST_bad_virt_addr)           \
    C(GNTST_bad_dev_addr) C(GNTST_no_device_space)                           \
    C(GNTST_permission_denied) C(GNTST_bad_page) C(GNTST_bad_copy_arg)       \
    C(GNTST_address_too_big) C(GNTST_eagain) C(GNTST_no_space)               \
    C(GNTMAP_device_map) C(GNTMAP_host_map) C(GNTMAP_readonly)               \
    C(GNTMAP_application_map) C(GNTMAP_contains_pte)                         \
    C(GNTMAP_guest_avail_mask)                                               \
    C(GNTCOPY_source_gref) C(GNTCOPY_dest_gref)                              \
    C(XS_CONTROL) C(XS_DEBUG) C(XS_DIRECTORY) C(XS_READ) C(XS_GET_PERMS)     \
    C(XS_WATCH) C(XS_UNWATCH) C(XS_TRANSACTION_START)                        \
    C(XS_TRANSACTION_END) C(XS_INTRODUCE) C(XS_RELEASE)                      \
    C(XS_GET_DOMAIN_PATH) C(XS_WRITE) C(XS_MKDIR) C(XS_RM) C(XS_SET_PERMS)   \
    C(XS_WATCH_EVENT) C(XS_ERROR) C(XS_IS_DOMAIN_INTRODUCED) C(XS_RESUME)    \
    C(XS_SET_TARGET) C(XS_RESET_WATCHES) C(XS_DIRECTORY_PART)                \
    C(XS_TYPE_COUNT) C(XS_INVALID) C(XS_WATCH_PATH) C(XS_WATCH_TOKEN)        \
    C(XENSTORE_RING_SIZE) C(XENSTORE_PAYLOAD_MAX) C(XENSTORE_ABS_PATH_MAX)   \
    C(XENSTORE_REL_PATH_MAX) C(XENSTORE_SERVER_FEATURE_RECONNECTION)         \
    C(XENSTORE_SERVER_FEATURE_ERROR) C(XENSTORE_CONNECTED)                   \
    C(XENSTORE_RECONNECT) C(XENSTORE_ERROR_NONE) C(XENSTORE_ERROR_COMM)      \
    C(XENSTORE_ERROR_RINGIDX) C(XENSTORE_ERROR_PROTO)                        \
    C(MASK_XENSTORE_IDX(0x12345))                                            \
    C(BLKIF_OP_READ) C(BLKIF_OP_WRITE) C(BLKIF_OP_WRITE_BARRIER)             \
    C(BLKIF_OP_FLUSH_DISKCACHE) C(BLKIF_OP_RESERVED_1) C(BLKIF_OP_DISCARD)   \
    C(BLKIF_OP_INDIRECT) C(BLKIF_MAX_SEGMENTS_PER_REQUEST)                   \
    C(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) C(BLKIF_DISCARD_SECURE)          \
    C(BLKIF_RSP_EOPNOTSUPP) C(BLKIF_RSP_ERROR) C(BLKIF_RSP_OKAY)             \
    C(VDISK_CDROM) C(VDISK_REMOVABLE) C(VDISK_READONLY)                      \
    C(XEN_NETIF_NR_SLOTS_MIN) C(XEN_NETIF_MAX_TX_SIZE)                       \
    C(NETTXF_csum_blank) C(NETTXF_data_validated) C(NETTXF_more_data)        \
    C(NETTXF_extra_info)                                                     \
    C(XEN_NETIF_EXTRA_TYPE_NONE) C(XEN_NETIF_EXTRA_TYPE_GSO)                 \
    C(XEN_NETIF_EXTRA_TYPE_MCAST_ADD) C(XEN_NETIF_EXTRA_TYPE_MCAST_DEL)      \
    C(XEN_NETIF_EXTRA_TYPE_HASH) C(XEN_NETIF_EXTRA_TYPE_MAX)                 \
    C(XEN_NETIF_EXTRA_FLAG_MORE) C(XEN_NETIF_GSO_TYPE_NONE)                  \
    C(XEN_NETIF_GSO_TYPE_TCPV4) C(XEN_NETIF_GSO_TYPE_TCPV6)                  \
    C(NETRXF_data_validated) C(NETRXF_csum_blank) C(NETRXF_more_data)        \
    C(NETRXF_extra_info) C(NETRXF_gso_prefix)                                \
    C(NETIF_RSP_DROPPED) C(NETIF_RSP_ERROR) C(NETIF_RSP_OKAY)                \
    C(NETIF_RSP_NULL)

/* Row builders. */
#define ABI_ROW_SIZE(type)        { #type, 0, sizeof(type) },
#define ABI_ROW_FIELD(type, fld)  { #type "." #fld, offsetof(type, fld), sizeof(((type *)0)->fld) },
#define ABI_ROW_OFFSET(type, fld) { #type "." #fld, offsetof(type, fld), 0 },
#define ABI_ROW_CONST(expr)       { #expr, (int64_t)(expr) },

/* Expanded once in each of abi_layout_ours.c and abi_layout_xen.c. */
#define ABI_LAYOUT_DEFINE_TABLES(tables)                                     \
    static const struct abi_layout_row tables##_layout[] = {                 \
        ABI_LAYOUT_LIST(ABI_ROW_SIZE, ABI_ROW_FIELD, ABI_ROW_OFFSET)         \
    };                                                                       \
    static const struct abi_const_row tables##_consts[] = {                  \
        ABI_CONST_LIST(ABI_ROW_CONST)                                        \
    };                                                                       \
    const struct abi_tables tables = {                                       \
        tables##_layout, sizeof(tables##_layout) / sizeof(tables##_layout[0]), \
        tables##_consts, sizeof(tables##_consts) / sizeof(tables##_consts[0]), \
    }

#endif
