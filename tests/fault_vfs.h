// A fault-injecting SQLite VFS for tests: a shim over the default VFS that passes everything
// through until told to fail writes, as a full disk (SQLITE_FULL) or a failing device
// (SQLITE_IOERR_WRITE) would. Installed as the default VFS, so the code under test opens its
// database as it always does.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstring>

namespace sortd::test {

class FaultVfs {
 public:
  enum class Mode { Pass, DiskFull, IoError };

  // Registers the shim as the default VFS (once per process).
  static void install() {
    static bool done = [] {
      base() = sqlite3_vfs_find(nullptr);
      sqlite3_vfs& v = vfs();
      std::memset(&v, 0, sizeof v);
      v.iVersion = 2;
      v.szOsFile = static_cast<int>(sizeof(File)) + base()->szOsFile;
      v.mxPathname = base()->mxPathname;
      v.zName = "sortd-fault";
      v.xOpen = &x_open;
      v.xDelete = [](sqlite3_vfs*, const char* n, int s) { return base()->xDelete(base(), n, s); };
      v.xAccess = [](sqlite3_vfs*, const char* n, int f, int* o) {
        return base()->xAccess(base(), n, f, o);
      };
      v.xFullPathname = [](sqlite3_vfs*, const char* n, int k, char* o) {
        return base()->xFullPathname(base(), n, k, o);
      };
      v.xDlOpen = [](sqlite3_vfs*, const char* n) { return base()->xDlOpen(base(), n); };
      v.xDlError = [](sqlite3_vfs*, int n, char* m) { base()->xDlError(base(), n, m); };
      v.xDlSym = [](sqlite3_vfs*, void* h, const char* s) { return base()->xDlSym(base(), h, s); };
      v.xDlClose = [](sqlite3_vfs*, void* h) { base()->xDlClose(base(), h); };
      v.xRandomness = [](sqlite3_vfs*, int n, char* o) {
        return base()->xRandomness(base(), n, o);
      };
      v.xSleep = [](sqlite3_vfs*, int us) { return base()->xSleep(base(), us); };
      v.xCurrentTime = [](sqlite3_vfs*, double* t) { return base()->xCurrentTime(base(), t); };
      v.xGetLastError = [](sqlite3_vfs*, int n, char* m) {
        return base()->xGetLastError(base(), n, m);
      };
      v.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* t) {
        return base()->xCurrentTimeInt64(base(), t);
      };
      return sqlite3_vfs_register(&v, 1) == SQLITE_OK;
    }();
    (void)done;
  }

  static void set(Mode m) { mode() = m; }
  static long injected() { return injected_count(); }

 private:
  struct File {
    sqlite3_file base;
    sqlite3_file* real;  // the base VFS's file, allocated right after this struct
  };

  static sqlite3_vfs*& base() {
    static sqlite3_vfs* b = nullptr;
    return b;
  }
  static sqlite3_vfs& vfs() {
    static sqlite3_vfs v;
    return v;
  }
  static std::atomic<Mode>& mode() {
    static std::atomic<Mode> m{Mode::Pass};
    return m;
  }
  static std::atomic<long>& injected_count() {
    static std::atomic<long> n{0};
    return n;
  }
  static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<File*>(f)->real; }

  static int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    switch (mode().load()) {
      case Mode::DiskFull:
        ++injected_count();
        return SQLITE_FULL;
      case Mode::IoError:
        ++injected_count();
        return SQLITE_IOERR_WRITE;
      case Mode::Pass:
        break;
    }
    return real(f)->pMethods->xWrite(real(f), buf, n, off);
  }

  static const sqlite3_io_methods* methods(const sqlite3_io_methods* r) {
    static sqlite3_io_methods m;
    static bool init = [r] {
      m = *r;  // every other method takes the real file: forward them
      m.iVersion = r->iVersion;
      m.xClose = [](sqlite3_file* f) {
        int rc = real(f)->pMethods->xClose(real(f));
        f->pMethods = nullptr;
        return rc;
      };
      m.xRead = [](sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
        return real(f)->pMethods->xRead(real(f), b, n, o);
      };
      m.xWrite = &x_write;
      m.xTruncate = [](sqlite3_file* f, sqlite3_int64 s) {
        return real(f)->pMethods->xTruncate(real(f), s);
      };
      m.xSync = [](sqlite3_file* f, int fl) { return real(f)->pMethods->xSync(real(f), fl); };
      m.xFileSize = [](sqlite3_file* f, sqlite3_int64* s) {
        return real(f)->pMethods->xFileSize(real(f), s);
      };
      m.xLock = [](sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); };
      m.xUnlock = [](sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); };
      m.xCheckReservedLock = [](sqlite3_file* f, int* o) {
        return real(f)->pMethods->xCheckReservedLock(real(f), o);
      };
      m.xFileControl = [](sqlite3_file* f, int op, void* a) {
        return real(f)->pMethods->xFileControl(real(f), op, a);
      };
      m.xSectorSize = [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); };
      m.xDeviceCharacteristics = [](sqlite3_file* f) {
        return real(f)->pMethods->xDeviceCharacteristics(real(f));
      };
      m.xShmMap = [](sqlite3_file* f, int pg, int sz, int ext, void volatile** p) {
        return real(f)->pMethods->xShmMap(real(f), pg, sz, ext, p);
      };
      m.xShmLock = [](sqlite3_file* f, int o, int n, int fl) {
        return real(f)->pMethods->xShmLock(real(f), o, n, fl);
      };
      m.xShmBarrier = [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); };
      m.xShmUnmap = [](sqlite3_file* f, int d) { return real(f)->pMethods->xShmUnmap(real(f), d); };
      m.xFetch = [](sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
        return real(f)->pMethods->xFetch(real(f), o, n, p);
      };
      m.xUnfetch = [](sqlite3_file* f, sqlite3_int64 o, void* p) {
        return real(f)->pMethods->xUnfetch(real(f), o, p);
      };
      return true;
    }();
    (void)init;
    return &m;
  }

  static int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out) {
    File* file = reinterpret_cast<File*>(f);
    file->real = reinterpret_cast<sqlite3_file*>(file + 1);
    int rc = base()->xOpen(base(), name, file->real, flags, out);
    f->pMethods = file->real->pMethods ? methods(file->real->pMethods) : nullptr;
    return rc;
  }
};

}  // namespace sortd::test
