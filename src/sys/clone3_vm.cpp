// SPDX-License-Identifier: Apache-2.0
#include "sys/clone3_vm.hpp"

#include <sys/syscall.h>

#include <cerrno>

#define BOXJAIL_STR2(x) #x
#define BOXJAIL_STR(x) BOXJAIL_STR2(x)

// The child of clone3 starts at the instruction after `syscall`, on the new stack, with every
// register but rax, rcx and r11 as the parent had them: fn and arg travel in r12 and r13 (saved
// and restored for the parent, as the ABI wants them preserved). The child never returns into C
// code that was running on the parent's stack, which is what makes this safe where a plain
// syscall() wrapper is not. rbp is cleared so that backtraces stop there.
#if defined(__x86_64__)
extern "C" long boxjail_clone3_vm_raw(clone_args* args, unsigned long size, int (*fn)(void*),
                                      void* arg);
asm(R"(
  .text
  .globl boxjail_clone3_vm_raw
  .type boxjail_clone3_vm_raw, @function
boxjail_clone3_vm_raw:
  .cfi_startproc
  push %r12
  .cfi_adjust_cfa_offset 8
  push %r13
  .cfi_adjust_cfa_offset 8
  mov %rdx, %r12
  mov %rcx, %r13
  mov $)" BOXJAIL_STR(SYS_clone3) R"(, %eax
  syscall
  test %rax, %rax
  jz 1f
  pop %r13
  .cfi_adjust_cfa_offset -8
  pop %r12
  .cfi_adjust_cfa_offset -8
  ret
1:
  .cfi_undefined rip
  xor %ebp, %ebp
  mov %r13, %rdi
  call *%r12
  mov %eax, %edi
  mov $)" BOXJAIL_STR(SYS_exit) R"(, %eax
  syscall
  hlt
  .cfi_endproc
  .size boxjail_clone3_vm_raw, .-boxjail_clone3_vm_raw
)");
#endif

namespace boxjail::sys {

pid_t clone3_vm(clone_args& args, int (*fn)(void*), void* arg) {
#if defined(__x86_64__)
  const long rc = boxjail_clone3_vm_raw(&args, sizeof args, fn, arg);
  if (rc < 0) {
    errno = static_cast<int>(-rc);
    return -1;
  }
  return static_cast<pid_t>(rc);
#else
  (void)args, (void)fn, (void)arg;
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace boxjail::sys
