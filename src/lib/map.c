/* SPDX-License-Identifier: MIT */
/* The public handle: create, open, close, remove and describe maps. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct mmf *handle_new(void) {
  struct mmf *m = calloc(1, sizeof *m);
  if (m) {
    m->fd = -1;
    m->holder_idx = -1;
  }
  return m;
}

static void handle_free(struct mmf *m) {
  mmf__os_unmap(m->base, m->map_len);
  mmf__os_close(m->fd);
  free(m);
}

/* A file kept from an earlier boot holds lock owners that mean nothing now:
 * reset them, once, under a kernel lock that dies with its holder. */
static void check_boot(struct mmf *m) {
  uint8_t boot[16];
  mmf__os_boot_id(boot);
  if (!memcmp(m->hdr->boot_id, boot, 16))
    return;
  if (mmf__os_flock(m->fd, true) < 0)
    return;
  if (memcmp(m->hdr->boot_id, boot, 16))
    mmf__hdr_reset_boot(m->hdr, boot);
  (void)mmf__os_flock(m->fd, false);
}

/* Map the object behind fd into m; `probe` skips joining the holders (used by
 * mmf_info and mmf_list, which look and leave). */
static int map_object(struct mmf *m, int flags, bool probe, bool on_disk) {
  int r = mmf__os_fstat(m->fd, &m->st);
  if (r < 0)
    return r;
  if (!S_ISREG(m->st.st_mode))
    return -EINVAL;
  uint64_t size = (uint64_t)m->st.st_size;
  if (size > SIZE_MAX)
    return -EFBIG;
  if (flags & MMF_RAW) {
    m->kind = MMF_KIND_RAW;
    m->map_len = size;
    return mmf__os_map(m->fd, size, !m->readonly, false, (void **)&m->base);
  }
  /* Look at the header through a small mapping first: the sizes it claims
   * are checked against the object before the whole is mapped. */
  uint8_t head[MMF__HDR_SIZE];
  size_t hl = size < sizeof head ? (size_t)size : sizeof head;
  void *hp = NULL;
  if ((r = mmf__os_map(m->fd, hl, false, false, &hp)) < 0)
    return r;
  if (hl)
    memcpy(head, hp, hl);
  mmf__os_unmap(hp, hl);
  if ((r = mmf__hdr_check(head, size, &m->capacity, &m->stride)) < 0)
    return r;
  m->kind = MMF_KIND_MMF;
  m->map_len = mmf__object_size_for(m->capacity);
  if ((r = mmf__os_map(m->fd, m->map_len, !m->readonly, false,
                       (void **)&m->base)) < 0)
    return r;
  m->hdr = (struct mmf__hdr *)m->base;
  m->wake_all = (m->hdr->flags & MMF__HF_WAKE_ALL) != 0;
  /* The header may have changed since we looked: look again in place. */
  uint64_t cap2, stride2;
  if ((r = mmf__hdr_check(m->base, size, &cap2, &stride2)) < 0)
    return r;
  if (cap2 != m->capacity || stride2 != m->stride)
    return -MMF_ECORRUPT;
  if (!m->readonly && !probe) {
    if (on_disk) /* /dev/shm does not outlive a boot */
      check_boot(m);
    if ((r = mmf__holders_join(m)) < 0)
      return r;
  }
  return 0;
}

int mmf__open_at(const struct mmf__where *w, const char *name, int flags,
                 bool probe, struct mmf **ret) {
  struct mmf *m = handle_new();
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
  if ((r = map_object(m, flags, probe, w->kind == MMF__NAME_PATH)) < 0)
    goto fail;
  *ret = m;
  return 0;
fail:
  handle_free(m);
  return r;
}

MMF_EXPORT int mmf_open(const char *name, int flags, mmf_t **ret) {
  if (!ret || (flags & ~(MMF_RAW | MMF_READONLY)))
    return -EINVAL;
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0)
    return r;
  r = mmf__open_at(&w, name, flags, false, ret);
  mmf__where_close(&w);
  return r;
}

/* Make the object complete under no name, then link it into place: nobody
 * can see it half-made, and an existing name is never touched. */
static int create_new(const struct mmf__where *w, const char *name,
                      uint64_t capacity, int flags, unsigned mode,
                      struct mmf **ret) {
  struct mmf *m = handle_new();
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
  uint64_t size = raw ? capacity : mmf__object_size_for(capacity);
  if ((r = mmf__os_truncate(m->fd, size)) < 0)
    goto fail;
  if ((r = mmf__os_fchmod(m->fd, mode)) < 0)
    goto fail;
  if (!raw) {
    /* Write the header through a one-page mapping, then the holder entry
     * of this handle, before anyone can open it. */
    void *p;
    if ((r = mmf__os_reserve(m->fd, 0, MMF__HDR_SIZE)) < 0 && r != -EOPNOTSUPP)
      goto fail;
    if ((r = mmf__os_map(m->fd, MMF__HDR_SIZE, true, false, &p)) < 0)
      goto fail;
    struct mmf__hdr *h = p;
    if (flags & MMF_TRANSIENT) {
      atomic_store(&h->holders[0].start, mmf__os_pid_start());
      atomic_store(&h->holders[0].pid, mmf__os_pid());
    }
    uint32_t hf = (flags & MMF_TRANSIENT) ? MMF__HF_TRANSIENT : 0;
    /* Group or others may read but not write? */
    if ((mode & 040 && !(mode & 020)) || (mode & 04 && !(mode & 02)))
      hf |= MMF__HF_WAKE_ALL;
    mmf__hdr_init(h, capacity, hf);
    mmf__os_unmap(p, MMF__HDR_SIZE);
  }
  if ((r = mmf__os_link_tmp(w->dirfd, m->fd, tmp, w->base)) < 0)
    goto fail;
  tmp[0] = '\0';
  /* Now map it as any opener would. */
  if ((r = map_object(m, raw ? MMF_RAW : 0, (flags & MMF_TRANSIENT) != 0,
                      false)) < 0) {
    (void)mmf__os_unlink_at(w->dirfd, w->base);
    goto fail;
  }
  if (flags & MMF_TRANSIENT) {
    m->holder_idx = 0;
    m->registered = true;
  }
  *ret = m;
  return 0;
fail:
  mmf__os_drop_tmp(w->dirfd, tmp);
  handle_free(m);
  return r;
}

/* Remove the map at w if it is transient and no holder lives; true if it
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
  if (!ret || (flags & ~(MMF_OPEN_EXISTING | MMF_RAW | MMF_TRANSIENT)) ||
      ((flags & MMF_RAW) && (flags & MMF_TRANSIENT)) || mode > 0777)
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
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0)
    return r;
  /* Create-or-open races with removal: a few rounds settle it. */
  for (int round = 0; round < 10; round++) {
    r = create_new(&w, name, capacity, flags, mode, ret);
    if (r == -EEXIST && !(flags & MMF_OPEN_EXISTING)) {
      /* A transient map whose holders all died is gone in all but name. */
      if (reap_orphan(&w, name))
        continue;
      break;
    }
    if (r != -EEXIST)
      break;
    r = mmf__open_at(&w, name, flags & MMF_RAW, false, ret);
    if (r != -ENOENT)
      break;
  }
  mmf__where_close(&w);
  return r;
}

/* Remove m's name if it still names m's object (a transient map's last
 * holder leaving).  The caller holds the holders lock. */
int mmf__remove_if_same(struct mmf *m) {
  struct mmf__where w;
  int r = mmf__where_open(m->name, &w);
  if (r < 0)
    return r;
  int fd;
  r = mmf__os_open_at(w.dirfd, w.base, false, true, &fd);
  if (r == 0) {
    struct stat st;
    r = mmf__os_fstat(fd, &st);
    mmf__os_close(fd);
    if (r == 0 && st.st_dev == m->st.st_dev && st.st_ino == m->st.st_ino)
      r = mmf__os_unlink_at(w.dirfd, w.base);
  }
  mmf__where_close(&w);
  return r;
}

MMF_EXPORT void mmf_close(mmf_t *m) {
  if (!m)
    return;
  if (m->writing)
    mmf_write_abort(m);
  if (m->kind == MMF_KIND_MMF && !m->readonly) {
    if (mmf__lock_held_by_me(&m->hdr->ulock))
      (void)mmf__lock_release(&m->hdr->ulock);
    mmf__holders_leave(m);
  }
  handle_free(m);
}

MMF_EXPORT int mmf_remove(const char *name) {
  struct mmf__where w;
  int r = mmf__where_open(name, &w);
  if (r < 0)
    return r;
  if (w.kind == MMF__NAME_PATH) {
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
  struct stat st;
  int r = mmf__os_fstat(m->fd, &st);
  if (r < 0)
    return r;
  if (!m->priv && (uint64_t)st.st_size < m->map_len)
    return -MMF_ECORRUPT;
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
    s.transient = (m->hdr->flags & MMF__HF_TRANSIENT) != 0;
    s.holders = mmf__holders_count(m->hdr);
    s.lock_pid = mmf__lock_holder(&m->hdr->ulock);
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

MMF_EXPORT int mmf_sync(mmf_t *m) {
  if (!m)
    return -EINVAL;
  return mmf__os_msync(m->base, m->map_len);
}

MMF_EXPORT const char *mmf_version(void) {
  return MMF_VERSION_STRING;
}
