/* SPDX-License-Identifier: MIT */
/* The public handle: create, open, close, remove and describe maps. */
#include "events.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Map the object behind fd into m; `probe` skips joining the holders (used by
 * mmf_info and mmf_list, which look and leave). */
static int map_object(struct mmf *m, int flags, bool probe) {
  int r = mmf__os_fstat(m->fd, &m->st);
  if (r < 0)
    return r;
  uint64_t size = (uint64_t)m->st.st_size;
  if (size > SIZE_MAX / 2)
    return -EFBIG;
  m->transient = (m->st.st_mode & S_ISVTX) != 0;
  m->opener = mmf__os_getpid();
  m->forks = mmf__os_forks();
  if (flags & MMF_RAW) {
    m->kind = MMF_KIND_RAW;
    m->map_len = size;
    /* A transient mmf map that nobody holds is gone, raw bytes or not:
     * its content is never revived. */
    char magic[MMF__MAGIC_LEN];
    size_t got;
    if (m->transient && !probe &&
        mmf__os_pread(m->fd, magic, sizeof magic, 0, &got) == 0 &&
        got == sizeof magic && !memcmp(magic, MMF__MAGIC, sizeof magic) &&
        mmf__holders_reap_orphan(m))
      return -ENOENT;
    return mmf__os_map(m->fd, size, !m->readonly, false, (void **)&m->base);
  }
  /* Read the header with pread, not through a mapping: a peer that shrinks
   * the object meanwhile makes this a short read, not a SIGBUS. */
  uint8_t head[MMF__HDR_SIZE];
  size_t got;
  if ((r = mmf__os_pread(m->fd, head, sizeof head, 0, &got)) < 0)
    return r;
  /* A short read (shrunk meanwhile) is judged by what was read. */
  if ((r = mmf__hdr_check(head, got < sizeof head ? got : size, &m->capacity,
                          &m->stride, &m->hdr_size)) < 0)
    return r;
  m->kind = MMF_KIND_MMF;
  uint32_t hflags;
  memcpy(&hflags, head + offsetof(struct mmf__hdr, flags), sizeof hflags);
  atomic_store(&m->compact, (hflags & MMF__HF_COMPACT) != 0);
  uint32_t feat_write;
  memcpy(&feat_write, head + offsetof(struct mmf__hdr, feat_write),
         sizeof feat_write);
  m->foreign_writes = (feat_write & ~MMF__FW_KNOWN) != 0;
  /* A map made where size_t is wider may not fit this address space. */
  if (m->capacity > MMF_CAPACITY_MAX)
    return -EFBIG;
  m->map_len = mmf__object_size_for(m->capacity, m->hdr_size);
  if ((r = mmf__os_map(m->fd, m->map_len, !m->readonly, false,
                       (void **)&m->base)) < 0)
    return r;
  m->hdr = (struct mmf__hdr *)m->base;
  /* The header may have changed since we looked, and the object shrunk:
   * look again, with the same care. */
  uint64_t cap2, stride2, hdr2;
  if ((r = mmf__os_pread(m->fd, head, sizeof head, 0, &got)) < 0)
    return r;
  if ((r = mmf__hdr_check(head, got < sizeof head ? got : size, &cap2, &stride2,
                          &hdr2)) < 0)
    return r;
  if (cap2 != m->capacity || stride2 != m->stride || hdr2 != m->hdr_size)
    return -MMF_ECORRUPT;
  struct stat now;
  if ((r = mmf__os_fstat(m->fd, &now)) < 0)
    return r;
  if ((uint64_t)now.st_size < m->map_len)
    return -MMF_ECORRUPT;
  if (probe)
    return 0;
  /* A transient map nobody holds is gone in all but name: never revive
   * its content. */
  if (m->transient && mmf__holders_reap_orphan(m))
    return -ENOENT;
  if ((r = mmf__holders_join(m)) < 0)
    return r;
  /* Removed between our open and our join: gone too. */
  if ((r = mmf__os_fstat(m->fd, &now)) < 0)
    return r;
  if (now.st_nlink == 0)
    return -ENOENT;
  return 0;
}

int mmf__open_at(const struct mmf__where *w, const char *name, int flags,
                 bool probe, struct mmf **ret) {
  struct mmf *m = mmf__handle_new();
  if (!m)
    return -ENOMEM;
  snprintf(m->name, sizeof m->name, "%s", name);
  bool ro = flags & MMF_READONLY;
  int r = mmf__os_open_at(w->dirfd, w->base, !ro, true, &m->fd);
  if (r == -EACCES && !ro) {
    /* Read but not write permission: a read-only handle. */
    ro = true;
    r = mmf__os_open_at(w->dirfd, w->base, false, true, &m->fd);
  }
  if (r < 0)
    goto fail;
  m->readonly = ro;
  if ((r = map_object(m, flags, probe)) < 0)
    goto fail;
  *ret = m;
  return 0;
fail:
  mmf__holders_forget(m);
  mmf__handle_free(m);
  return r;
}

MMF_EXPORT int mmf_open(const char *name, int flags, mmf_t **ret) {
  if (!ret || (flags & ~(MMF_RAW | MMF_READONLY)))
    return -EINVAL;
  /* No cancellation inside: a cancel at one of its system calls would
   * leak descriptors and leave the holders' registry half-changed. */
  int c = mmf__os_cancel_off();
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r == 0) {
    r = mmf__open_at(&w, name, flags, false, ret);
    mmf__where_close(&w);
  }
  mmf__os_cancel_restore(c);
  return r;
}

/* Write the fresh header of an object being made: through a one-page
 * mapping once its page is allocated, or with pwrite where the file system
 * cannot allocate ahead (a store into a hole could be a SIGBUS there). */
static int write_header(int fd, uint64_t capacity, uint32_t hf,
                        uint64_t align) {
  int r = mmf__os_reserve(fd, 0, align);
  if (r == -EOPNOTSUPP || r == -ENOSYS) {
    struct mmf__hdr *page = calloc(1, MMF__HDR_SIZE);
    if (!page)
      return -ENOMEM;
    mmf__hdr_init(page, capacity, hf, align);
    r = mmf__os_pwrite_all(fd, page, MMF__HDR_SIZE, 0);
    free(page);
    return r;
  }
  if (r < 0)
    return r;
  void *p;
  if ((r = mmf__os_map(fd, MMF__HDR_SIZE, true, false, &p)) < 0)
    return r;
  mmf__hdr_init(p, capacity, hf, align);
  mmf__os_unmap(p, MMF__HDR_SIZE);
  return 0;
}

/* Make the object complete under no name, then link it into place: nobody
 * can see it half-made, and an existing name is never touched. */
static int create_new(const struct mmf__where *w, const char *name,
                      uint64_t capacity, int flags, unsigned mode,
                      struct mmf **ret) {
  struct mmf *m = mmf__handle_new();
  if (!m)
    return -ENOMEM;
  snprintf(m->name, sizeof m->name, "%s", name);
  char tmp[300];
  int r = mmf__os_create_tmp(w->dirfd, w->base, &m->fd, tmp);
  if (r < 0) {
    free(m);
    return r;
  }
  bool raw = flags & MMF_RAW;
  bool transient = flags & MMF_TRANSIENT;
  uint64_t align = mmf__align_here();
  uint64_t size = raw ? capacity : mmf__object_size_for(capacity, align);
  if ((r = mmf__os_truncate(m->fd, size)) < 0)
    goto fail;
  /* The sticky bit marks a transient map: only its owner can change it. */
  if ((r = mmf__os_fchmod(m->fd, mode | (transient ? S_ISVTX : 0))) < 0)
    goto fail;
  uint32_t hf = (transient ? MMF__HF_TRANSIENT : 0) |
                ((flags & MMF_COMPACT) ? MMF__HF_COMPACT : 0);
  if (!raw && (r = write_header(m->fd, capacity, hf, align)) < 0)
    goto fail;
  /* A transient map is held before it has a name, so that nobody ever
   * sees it with no holder. */
  if (!raw && (r = mmf__holders_join(m)) < 0)
    goto fail;
  if ((r = mmf__os_link_tmp(w->dirfd, m->fd, tmp, w->base)) < 0)
    goto fail;
  tmp[0] = '\0';
  /* Now map it as any opener would. */
  if ((r = map_object(m, raw ? MMF_RAW : 0, true)) < 0 ||
      (transient &&
       (r = mmf__os_spawn_watcher(m->fd, w->dirfd, w->base)) < 0)) {
    if (transient && r != -MMF_ECORRUPT)
      r = r == -ENOENT || r == -EACCES ? -MMF_ENOWATCHER : r;
    (void)mmf__os_unlink_if_same(w->dirfd, w->base, &m->st);
    goto fail;
  }
  *ret = m;
  return 0;
fail:
  mmf__os_drop_tmp(w->dirfd, tmp);
  mmf__holders_forget(m);
  mmf__handle_free(m);
  return r;
}

/* Remove the map at w if it is transient and nobody holds it; true if it
 * was removed. */
static bool reap_orphan(const struct mmf__where *w, const char *name) {
  struct mmf *m;
  if (mmf__open_at(w, name, 0, true, &m) < 0)
    return false;
  bool removed = mmf__holders_reap_orphan(m);
  mmf_close(m);
  return removed;
}

MMF_EXPORT int mmf_create(const char *name, size_t capacity, int flags,
                          unsigned mode, mmf_t **ret) {
  if (!ret ||
      (flags & ~(MMF_OPEN_EXISTING | MMF_RAW | MMF_TRANSIENT | MMF_COMPACT)) ||
      ((flags & MMF_RAW) && (flags & (MMF_TRANSIENT | MMF_COMPACT))) ||
      mode > 0777)
    return -EINVAL;
  int kind = mmf__name_classify(name);
  if (kind < 0)
    return kind;
  if (capacity == 0)
    return -EINVAL;
  if (capacity > MMF_CAPACITY_MAX)
    return -MMF_ETOOBIG;
  if (mode == 0)
    mode = 0600;
  int c = mmf__os_cancel_off(); /* as in mmf_open */
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0) {
    mmf__os_cancel_restore(c);
    return r;
  }
  /* Create-or-open races with removal: a few rounds settle it. */
  for (int round = 0; round < 10; round++) {
    r = create_new(&w, name, capacity, flags, mode, ret);
    if (r == -EEXIST && !(flags & MMF_OPEN_EXISTING)) {
      /* A transient map nobody holds is gone in all but name. */
      if (reap_orphan(&w, name))
        continue;
      break;
    }
    if (r != -EEXIST)
      break;
    struct mmf *m;
    r = mmf__open_at(&w, name, flags & MMF_RAW, false, &m);
    if (r == -ENOENT) {
      mmf__os_sleep_ms(1); /* being removed: let it finish */
      continue;
    }
    if (r == 0 && !mmf__os_owned_by_me(&m->st) && mmf__os_dir_shared(w.dirfd)) {
      /* Someone else's object where anyone may create one: what we write
       * would go to them.  (A plain open of a known map stays possible.) */
      mmf_close(m);
      r = -MMF_EOWNER;
    }
    if (r == 0)
      *ret = m;
    break;
  }
  mmf__where_close(&w);
  mmf__os_cancel_restore(c);
  return r;
}

MMF_EXPORT void mmf_close(mmf_t *m) {
  if (!m)
    return;
  /* Never half-closed: a cancel at a close() would leave the handle
   * neither open nor freed. */
  int c = mmf__os_cancel_off();
  /* Its event descriptor first: then no thread looks at the mapping. */
  mmf__events_forget(m);
  if (m->kind == MMF_KIND_MMF) {
    mmf__lock_release_mine(m); /* its lock words */
    mmf__holders_leave(m);     /* its mapping, its id */
  }
  mmf__holders_forget(m); /* its life, if it has one */
  mmf__handle_free(m);
  mmf__os_cancel_restore(c);
}

MMF_EXPORT int mmf_remove(const char *name) {
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0)
    return r;
  struct stat st;
  if (r == 0 && (r = mmf__os_stat_at(w.dirfd, w.base, &st)) == 0 &&
      !S_ISREG(st.st_mode))
    r = -MMF_ENOTREG; /* a FIFO, a symlink, a folder: no map of ours */
  if (r == 0 && w.kind == MMF__NAME_PATH) {
    /* A path may name any file: remove it only if it is an mmf map. */
    struct mmf *m;
    r = mmf__open_at(&w, name, MMF_READONLY, true, &m);
    if (r == 0)
      mmf_close(m);
    else if (r == -MMF_EVERSION || r == -MMF_ECORRUPT)
      r = 0; /* it carries mmf's magic: ours to remove */
  }
  if (r == 0)
    r = mmf__os_unlink_at(w.dirfd, w.base);
  mmf__where_close(&w);
  return r;
}

MMF_EXPORT int mmf_stat(mmf_t *m, struct mmf_stat *ret) {
  if (!m || !ret)
    return -EINVAL;
  int r = mmf__check_size(m, true);
  if (r < 0)
    return r;
  struct stat st;
  if ((r = mmf__os_fstat(m->fd, &st)) < 0)
    return r;
  struct mmf_stat s = {.kind = m->kind,
                       .raw = m->kind != MMF_KIND_MMF,
                       .readonly = m->readonly,
                       .object_size = (uint64_t)st.st_size};
  if (m->kind == MMF_KIND_MMF) {
    uint64_t len, seq;
    if ((r = mmf__content_peek(m, &len, &seq)) < 0)
      return r;
    s.capacity = m->capacity;
    s.length = len;
    s.seq = seq;
    s.transient = m->transient;
    s.holders = mmf__holders_count(m);
    s.lock_pid = mmf__holder_pid(m, mmf__lock_owner(m, &m->hdr->ulock));
  } else {
    s.capacity = s.length = m->map_len;
  }
  *ret = s;
  return 0;
}

MMF_EXPORT void *mmf_data(mmf_t *m) {
  return m && m->kind != MMF_KIND_MMF ? m->base : NULL;
}

MMF_EXPORT size_t mmf_size(mmf_t *m) {
  return m && m->kind != MMF_KIND_MMF ? m->map_len : 0;
}

MMF_EXPORT int mmf_fd(mmf_t *m) {
  return m ? m->fd : -EINVAL;
}

MMF_EXPORT int mmf_sync(mmf_t *m) {
  if (!m)
    return -EINVAL;
  return mmf__os_msync(m->base, m->map_len);
}

MMF_EXPORT const char *mmf_version(void) {
  return MMF_VERSION_STRING;
}
