/* SPDX-License-Identifier: MIT */
/* Prints the layout of the public structs, one "struct field offset size"
 * line each, so that bindings in other languages (the PowerShell module)
 * are checked against what the compiler made of mmf.h. */
#include <mmf.h>
#include <stddef.h>
#include <stdio.h>

#define F(s, f)                                                                \
  printf("%s %s %zu %zu\n", #s, #f, offsetof(struct s, f),                     \
         sizeof(((struct s *)0)->f))
#define SIZE(s) printf("%s sizeof %zu %zu\n", #s, sizeof(struct s), (size_t)0)

int main(void) {
  F(mmf_stat, capacity);
  F(mmf_stat, length);
  F(mmf_stat, seq);
  F(mmf_stat, raw);
  F(mmf_stat, kind);
  F(mmf_stat, readonly);
  F(mmf_stat, transient);
  F(mmf_stat, holders);
  F(mmf_stat, lock_pid);
  F(mmf_stat, object_size);
  F(mmf_stat, reserved_);
  SIZE(mmf_stat);
  F(mmf_info, name);
  F(mmf_info, kind);
  F(mmf_info, error);
  F(mmf_info, capacity);
  F(mmf_info, length);
  F(mmf_info, seq);
  F(mmf_info, object_size);
  F(mmf_info, mode);
  F(mmf_info, owner);
  F(mmf_info, group);
  F(mmf_info, mtime_ns);
  F(mmf_info, ctime_ns);
  F(mmf_info, transient);
  F(mmf_info, holders);
  F(mmf_info, lock_pid);
  F(mmf_info, orphaned);
  F(mmf_info, reserved0_);
  F(mmf_info, reserved_);
  SIZE(mmf_info);
  F(mmf_read_view, data);
  F(mmf_read_view, len);
  F(mmf_read_view, seq);
  F(mmf_read_view, priv_);
  SIZE(mmf_read_view);
  return 0;
}
