// SPDX-License-Identifier: Apache-2.0

package extraction

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back the large, pointer-free tables of an
// index with transparent huge pages (madvise MADV_HUGEPAGE, on the whole
// 2 MiB pages inside the slice), where the system allows it
// (/sys/kernel/mm/transparent_hugepage/enabled set to "madvise" or
// "always"). A fresh allocation is not touched yet: filling it then takes
// one page fault per 2 MiB instead of one per 4 KiB, which on virtual
// machines is the largest cost of a load (about 16 µs per 4 KiB fault on
// the benchmark machine). It is only advice: on failure nothing changes.
func adviseHuge[T any](s []T) {
	const huge = 2 << 20
	size := uintptr(len(s)) * unsafe.Sizeof(*new(T))
	if size < 2*huge {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	from := (p + huge - 1) &^ (huge - 1)
	to := (p + size) &^ (huge - 1)
	if from >= to {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), size)
	_ = syscall.Madvise(b[from-p:to-p], syscall.MADV_HUGEPAGE)
}
