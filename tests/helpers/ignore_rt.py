#!/usr/bin/python3
"""Run ARGV with signals 32 and 33 ignored.  glibc keeps those two real-time
signals for itself and refuses sigaction() on them, so only the raw system
call can ignore them; a daemon's parent may have done so (seen in CI), and
the ignored disposition survives exec."""
import ctypes
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
SYS_rt_sigaction = 13  # x86_64


class KernelSigaction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("flags", ctypes.c_ulong),
                ("restorer", ctypes.c_void_p), ("mask", ctypes.c_uint64)]


for sig in (32, 33):
    ignore = KernelSigaction(1, 0, None, 0)  # SIG_IGN
    if libc.syscall(SYS_rt_sigaction, sig, ctypes.byref(ignore), None, 8) != 0:
        sys.exit("ignore_rt: rt_sigaction(%d): %s" % (sig, os.strerror(ctypes.get_errno())))
os.execvp(sys.argv[1], sys.argv[1:])
