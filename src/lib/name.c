/* SPDX-License-Identifier: MIT */
/* Names and paths: which names are shared-memory objects, which are file
 * paths, and which are refused. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* A name within a folder: any bytes but '/' and NUL (the caller checked
 * there is no '/'), as .NET's MemoryMappedFile takes them, but not "." or
 * "..", not longer than NAME_MAX, and never one of the hidden names that
 * objects have while they are being created. */
static bool base_ok(const char *b) {
  return b[0] && strcmp(b, ".") && strcmp(b, "..") && strlen(b) <= NAME_MAX &&
         strncmp(b, MMF__TMP_PREFIX, strlen(MMF__TMP_PREFIX));
}

int mmf__name_classify(const char *name) {
  if (!name || !name[0])
    return -MMF_ENAME;
  size_t n = strnlen(name, 4096);
  if (n >= 4096)
    return -MMF_ENAME;
  /* A path straight in /dev/shm names the shared-memory object, as its
   * plain name does: a raw or mmf object, not a file. */
  static const char shm[] = MMF__SHM_DIR "/";
  if (!strncmp(name, shm, sizeof shm - 1) &&
      !strchr(name + sizeof shm - 1, '/'))
    return base_ok(name + sizeof shm - 1) ? MMF__NAME_SHM : -MMF_ENAME;
  if (strchr(name, '/')) {
    /* A path must name a file, not a folder. */
    if (name[n - 1] == '/')
      return -MMF_ENAME;
    const char *base = strrchr(name, '/') + 1;
    if (!strcmp(base, ".") || !strcmp(base, "..") || strlen(base) > NAME_MAX)
      return -MMF_ENAME;
    return MMF__NAME_PATH;
  }
  return base_ok(name) ? MMF__NAME_SHM : -MMF_ENAME;
}

int mmf__where_open(const char *name, struct mmf__where *ret) {
  int kind = mmf__name_classify(name);
  if (kind < 0)
    return kind;
  struct mmf__where w = {.dirfd = -1, .kind = kind};
  int r;
  if (kind == MMF__NAME_SHM) {
    r = mmf__os_open_dir(MMF__SHM_DIR, &w.dirfd);
    const char *b = strrchr(name, '/');
    snprintf(w.base, sizeof w.base, "%s", b ? b + 1 : name);
  } else {
    const char *slash = strrchr(name, '/');
    char dir[4096];
    size_t dlen = (size_t)(slash - name);
    if (dlen == 0)
      dlen = 1; /* "/x": the root folder */
    memcpy(dir, name, dlen);
    dir[dlen] = '\0';
    snprintf(w.base, sizeof w.base, "%s", slash + 1);
    r = mmf__os_open_dir(dir, &w.dirfd);
  }
  if (r < 0)
    return r;
  *ret = w;
  return 0;
}

void mmf__where_close(struct mmf__where *w) {
  mmf__os_close(w->dirfd);
  w->dirfd = -1;
}
