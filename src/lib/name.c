/* SPDX-License-Identifier: MIT */
/* Names and paths: which names are shared-memory objects, which are file
 * paths, and which are refused. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int mmf__name_classify(const char *name) {
  if (!name || !name[0])
    return -MMF_ENAME;
  size_t n = strnlen(name, 4096);
  if (n >= 4096)
    return -MMF_ENAME;
  /* A path straight in /dev/shm names the shared-memory object: any name
   * there (spaces, control bytes, a leading dot) can be reached so, and it
   * is a raw or mmf object as by its plain name, not a file. */
  static const char shm[] = MMF__SHM_DIR "/";
  if (!strncmp(name, shm, sizeof shm - 1) &&
      !strchr(name + sizeof shm - 1, '/')) {
    const char *b = name + sizeof shm - 1;
    if (!b[0] || !strcmp(b, ".") || !strcmp(b, "..") || strlen(b) > 255)
      return -MMF_ENAME;
    return MMF__NAME_SHM;
  }
  if (strchr(name, '/')) {
    /* A path must name a file, not a folder. */
    if (name[n - 1] == '/')
      return -MMF_ENAME;
    const char *base = strrchr(name, '/') + 1;
    if (!strcmp(base, ".") || !strcmp(base, "..") || strlen(base) > 255)
      return -MMF_ENAME;
    return MMF__NAME_PATH;
  }
  if (n > 255 || name[0] == '.' || name[0] == '-')
    return -MMF_ENAME;
  for (const char *p = name; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return -MMF_ENAME;
  }
  return MMF__NAME_SHM;
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
