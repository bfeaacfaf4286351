//go:build !amd64

package qemu

func tscKHz() int64 { return 0 }
