#!/bin/sh
# nsscript lab features, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add r1
ip -n r1 link set lo up
ip netns add r2
ip -n r2 link set lo up
ip netns add a-rather-long-namespace
ip -n a-rather-long-namespace link set lo up

# bridges
ip -n r1 link add lan0 address 16:0f:9d:98:3d:1d mtu 1400 type bridge

# veth pairs
ip link add r1-r2 address 8a:42:06:aa:fa:01 numtxqueues 1 numrxqueues 1 netns r1 type veth peer name r2-r1 address ba:df:24:cb:01:af numtxqueues 1 numrxqueues 1 netns r2
ip link add r2-host address 0e:d4:f2:ad:c8:35 numtxqueues 1 numrxqueues 1 netns r2 type veth peer name host-r2 address be:70:b5:cf:e5:30 numtxqueues 1 numrxqueues 1 group 1234275090
ip link add r2-lan0 address c6:13:4e:d2:c9:c7 mtu 1400 numtxqueues 1 numrxqueues 1 netns r2 type veth peer name lan0-r2 address ea:27:e8:28:1a:29 mtu 1400 numtxqueues 1 numrxqueues 1 netns r1
ip -n r1 link set lan0-r2 master lan0
ip link add a-rather--9552d address 06:8d:46:66:65:97 numtxqueues 1 numrxqueues 1 netns a-rather-long-namespace type veth peer name host-a-ra-95039 address 86:13:3a:02:62:cc numtxqueues 1 numrxqueues 1 group 1234275090
ip link add r1-r1 address 72:44:f4:bf:47:2d numtxqueues 1 numrxqueues 1 netns r1 type veth peer name r1-r1-1 address 16:50:1e:ba:38:93 numtxqueues 1 numrxqueues 1 netns r1

# sysctls
ip netns exec r1 sysctl -qw net.ipv4.ip_forward=1
ip netns exec r2 sysctl -qw net.ipv6.conf.all.forwarding=1
ip netns exec r2 sysctl -qw 'net.ipv4.ping_group_range=0 2147483647'

# addresses
ip -n r1 addr add 10.10.0.1/24 brd + dev lan0
ip -n r1 addr add fd00:10::1/64 dev lan0 nodad
ip -n r1 addr add 10.20.0.1/30 brd + dev r1-r2
ip -n r2 addr add 10.20.0.2/30 brd + dev r2-r1
ip -n r2 addr add 10.30.0.2/30 brd + dev r2-host
ip addr add 10.30.0.1/30 brd + dev host-r2
ip -n a-rather-long-namespace addr add 192.0.2.1/24 brd + dev a-rather--9552d
ip -n a-rather-long-namespace addr add fd00:99::1/64 dev a-rather--9552d nodad
ip addr add 192.0.2.2/24 brd + dev host-a-ra-95039
ip -n r1 addr add 10.10.1.1/24 brd + dev lan0

# links up
ip -n r1 link set r1-r2 up
ip -n r2 link set r2-r1 up
ip -n r2 link set r2-host up
ip link set host-r2 up
ip -n r2 link set r2-lan0 up
ip -n r1 link set lan0-r2 up
ip -n a-rather-long-namespace link set a-rather--9552d up
ip link set host-a-ra-95039 up
ip -n r1 link set r1-r1 up
ip -n r1 link set r1-r1-1 up
ip -n r1 link set lan0 up

# routes
ip -n r2 route add default via 10.20.0.1
ip -n r2 route add 10.40.0.0/16 via 10.30.0.1 metric 50
ip -n r2 route add 10.50.0.0/16 dev r2-r1
ip -6 -n r1 route add default via fd00:10::2
ip -6 -n r1 route add fd00:77::/48 dev lan0 metric 10
ip route add 10.20.0.0/30 via 10.30.0.2

# masquerade
ip netns exec r1 sysctl -qw net.ipv4.ip_forward=1
ip netns exec r1 iptables -t nat -A POSTROUTING -s 10.10.0.0/16 -o r1-r2 -m comment --comment nsscript:features -j MASQUERADE
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 10.20.0.0/30 -m comment --comment nsscript:features -j MASQUERADE
