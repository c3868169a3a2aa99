/* SPDX-License-Identifier: MIT */
/* Descriptions of the library's codes. */
#include "internal.h"

#include <string.h>

static const char *const messages[] = {
    [MMF_ENAME - MMF_EBASE] =
        "not a valid map name (1-255 bytes, no '/', not \".\" or \"..\", "
        "not starting with \"" MMF__TMP_PREFIX "\") or path",
    [MMF_ENOTMMF - MMF_EBASE] = "not an mmf map (no mmf header; open it raw)",
    [MMF_EVERSION - MMF_EBASE] =
        "made by another version of mmf (its format version is not 3, or it "
        "uses features this version does not know): "
        "remove it and create it again with this version",
    [MMF_ECORRUPT - MMF_EBASE] =
        "the map's header is broken or does not fit the object",
    [MMF_ETOOBIG - MMF_EBASE] = "content larger than the map's capacity",
    [MMF_ERAW - MMF_EBASE] = "not possible on a raw map or a mapped file",
    [MMF_ESTUCK - MMF_EBASE] =
        "another live process has held one of the map's locks too long",
    [MMF_EHOLDERS - MMF_EBASE] = "too many processes hold this map",
    [MMF_EOVERTAKEN - MMF_EBASE] =
        "a writer reused the content while it was being read",
    [MMF_EREADONLY - MMF_EBASE] = "the map is open read-only",
    [MMF_ENOTREG - MMF_EBASE] =
        "not a regular file (a FIFO, device or socket is no map)",
    [MMF_EOWNER - MMF_EBASE] =
        "the existing object belongs to another user, in a folder where "
        "anyone may create files: not opened",
    [MMF_ENOWATCHER - MMF_EBASE] =
        "the helper mmf-watch, which removes transient maps, could not be "
        "started (it comes with libmmf: install libmmf1, or set MMF_WATCHER to "
        "its path)",
};

MMF_EXPORT const char *mmf_strerror(int code) {
  if (code < 0)
    code = -code;
  if (code == 0)
    return "success";
  if (code > MMF_EBASE &&
      code - MMF_EBASE < (int)(sizeof messages / sizeof *messages) &&
      messages[code - MMF_EBASE])
    return messages[code - MMF_EBASE];
  if (code < MMF_EBASE) {
    /* strerror's static table entry; never the thread-unsafe buffer for
     * known codes, and "Unknown error N" is still a description. */
#ifdef HAVE_STRERRORDESC_NP
    return strerrordesc_np(code) ? strerrordesc_np(code) : "unknown error";
#else
    /* glibc before 2.32: strerror's table, through a call that may share a
     * buffer across threads for unknown codes only. */
    return strerror(code);
#endif
  }
  return "unknown error";
}
