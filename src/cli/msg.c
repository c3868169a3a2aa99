/* SPDX-License-Identifier: MIT */
/* The one-line messages of the CLI on stderr: usage errors, failures, and
 * what to do about the library's common codes. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

const char *hint(int code) {
  switch (code) {
  case -ENOENT:
    return "no such map; create it with 'mmf new NAME --size SIZE'";
  case -EEXIST:
    return "a map of that name exists; add --or-open to open it, or 'mmf "
           "remove' it first";
  case -EACCES:
    return "permission denied; the map's mode or owner does not let you in";
  case -MMF_ENAME:
    return "not a valid map name: a name is 1-255 bytes without '/' (not "
           "'.', '..' or '.mmf-tmp-...'), and a path contains '/'";
  case -MMF_EREADONLY:
    return "you may read this map but not write it; nothing was written";
  case -MMF_ECORRUPT:
    return "the map's header is broken or does not fit the object (a peer "
           "may have truncated it); remove it and create it again";
  case -MMF_EVERSION:
    /* Version 1 (mmf 1.0) maps meet this too: not only newer ones. */
    return "made by an mmf of another format version (older or newer than "
           "this one's); read it with the mmf that made it, or remove it and "
           "create it again";
  case -MMF_ESTUCK:
    return "another live process has held one of the map's locks for 5 "
           "seconds (it may be stuck); nothing was changed";
  case -ENOSPC:
    return "no space left for the content; nothing was written";
  default:
    return mmf_strerror(code);
  }
}

int usage_error(const struct verb *v, const char *fmt, ...) {
  va_list ap;
  char msg[2048], safe[8200];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* The message may quote what was typed: no control byte reaches the
   * terminal. */
  fprintf(stderr, "mmf: %s: %s (see 'mmf %s --help')\n", v ? v->name : "usage",
          printable(msg, safe, sizeof safe), v ? v->name : "help");
  return EXIT_USAGE;
}

int fail(const char *verb, const char *name, const char *fmt, ...) {
  va_list ap;
  char qn[QUOTED_MAX], msg[2048], safe[8200];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* What was typed (a file name, a command) may be quoted in the message:
   * no control byte reaches the terminal. */
  fprintf(stderr, "mmf: %s %s: %s\n", verb, quote_name(name, qn, sizeof qn),
          printable(msg, safe, sizeof safe));
  return EXIT_FAIL;
}

int fail_code(const char *verb, const char *name, int code) {
  return fail(verb, name, "%s", hint(code));
}

/* What the object `name` is, when it is not a regular file (lstat: a
 * symlink is never followed); NULL when it cannot be told. */
static const char *not_a_file(const char *name) {
  char path[4200];
  struct stat st;
  snprintf(path, sizeof path, "%s%s", strchr(name, '/') ? "" : "/dev/shm/",
           name);
  if (lstat(path, &st) < 0)
    return NULL;
  if (S_ISLNK(st.st_mode))
    return "a symbolic link, which mmf never follows (name its target)";
  if (S_ISDIR(st.st_mode))
    return "a directory, not a map";
  if (S_ISFIFO(st.st_mode))
    return "a FIFO, not a map";
  if (S_ISSOCK(st.st_mode))
    return "a socket, not a map";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    return "a device, not a map";
  return NULL;
}

int fail_map(const struct verb *v, const char *name, int code) {
  char qn[QUOTED_MAX];
  if (code == -MMF_ENAME)
    return usage_error(v, "%s: %s", quote_name(name, qn, sizeof qn),
                       hint(code));
  const char *what = code == -MMF_ENOTREG || code == -EISDIR || code == -ELOOP
                         ? not_a_file(name)
                         : NULL;
  if (what)
    return fail(v->name, name, "it is %s", what);
  return fail_code(v->name, name, code);
}
