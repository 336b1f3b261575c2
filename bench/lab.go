package main

import (
	"fmt"
	"strings"
)

// The lab every builder makes: bridge br0 with 10.0.0.1/16 in the root
// namespace of the sandbox; namespaces h1..hN, each with a veth whose bridge
// end is a port of br0 and whose other end has hostAddr(i)/16; loopback and
// every link up; a default route via 10.0.0.1 in each namespace.
const (
	bridgeName = "br0"
	bridgeAddr = "10.0.0.1"
	prefixLen  = 16
)

// hostAddr is the address of namespace hI: 10.0.I/250.I%250+2, so h1 is
// 10.0.0.3 and h1000 is 10.0.4.2 (up to 64,000 namespaces fit the /16).
func hostAddr(i int) string {
	return fmt.Sprintf("10.0.%d.%d", i/250, i%250+2)
}

// shellUp is the tutorial's way to build the lab: one `ip` command per step.
func shellUp(n int) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Builds the benchmark lab the ip-netns tutorial way: one ip command per step.\nset -e\n")
	fmt.Fprintf(&b, "ip link add %s type bridge\n", bridgeName)
	fmt.Fprintf(&b, "ip addr add %s/%d dev %s\n", bridgeAddr, prefixLen, bridgeName)
	fmt.Fprintf(&b, "ip link set %s up\n", bridgeName)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "ip netns add h%d\n", i)
		fmt.Fprintf(&b, "ip link add veth%d type veth peer name ceth%d\n", i, i)
		fmt.Fprintf(&b, "ip link set ceth%d netns h%d\n", i, i)
		fmt.Fprintf(&b, "ip link set veth%d master %s\n", i, bridgeName)
		fmt.Fprintf(&b, "ip link set veth%d up\n", i)
		fmt.Fprintf(&b, "ip -n h%d link set lo up\n", i)
		fmt.Fprintf(&b, "ip -n h%d addr add %s/%d dev ceth%d\n", i, hostAddr(i), prefixLen, i)
		fmt.Fprintf(&b, "ip -n h%d link set ceth%d up\n", i, i)
		fmt.Fprintf(&b, "ip -n h%d route add default via %s\n", i, bridgeAddr)
	}
	return b.String()
}

// shellDown is the tutorial's teardown, plus a wait: deleting a namespace
// takes its veth along only when the kernel gets round to destroying the
// namespace, so the script polls until no veth is left, as a script that
// builds the next lab at once must.
func shellDown(n int) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Tears the benchmark lab down the ip-netns tutorial way, then waits until it is gone.\nset -e\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "ip netns del h%d\n", i)
	}
	fmt.Fprintf(&b, "ip link del %s\n", bridgeName)
	b.WriteString("while [ -n \"$(ip -o link show type veth)\" ]; do sleep 0.01; done\n")
	return b.String()
}
