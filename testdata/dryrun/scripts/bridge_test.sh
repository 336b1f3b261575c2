#!/bin/sh
# nsscript lab bridge_test, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add red
ip -n red link set lo up
ip netns add blue
ip -n blue link set lo up
ip netns add internet
ip -n internet link set lo up

# bridges
ip link add br-0 address b6:0b:eb:57:25:45 group 1317670357 type bridge

# veth pairs
ip link add veth-red address da:67:f0:86:79:50 numtxqueues 1 numrxqueues 1 netns red type veth peer name veth-red-br address 0e:63:77:68:44:05 numtxqueues 1 numrxqueues 1 group 1317670357
ip link set veth-red-br master br-0
ip link add veth-blue address 3e:1e:56:e6:1d:82 numtxqueues 1 numrxqueues 1 netns blue type veth peer name veth-blue-br address 7a:8b:d8:9f:90:89 numtxqueues 1 numrxqueues 1 group 1317670357
ip link set veth-blue-br master br-0
ip link add uplink address 1a:95:e7:93:07:e4 numtxqueues 1 numrxqueues 1 group 1317670357 type veth peer name eth0 address ee:fa:e6:e4:15:47 numtxqueues 1 numrxqueues 1 netns internet

# addresses
ip addr add 192.168.15.5/24 brd + dev br-0
ip -n red addr add 192.168.15.1/24 brd + dev veth-red
ip -n blue addr add 192.168.15.2/24 brd + dev veth-blue
ip addr add 203.0.113.1/24 brd + dev uplink
ip -n internet addr add 203.0.113.2/24 brd + dev eth0

# links up
ip -n red link set veth-red up
ip link set veth-red-br up
ip -n blue link set veth-blue up
ip link set veth-blue-br up
ip link set uplink up
ip -n internet link set eth0 up
ip link set br-0 up

# routes
ip -n red route add default via 192.168.15.5
ip -n blue route add default via 192.168.15.5

# masquerade
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o uplink -m comment --comment nsscript:bridge_test -j MASQUERADE

ip netns exec red ping -c 1 -W 1 192.168.15.2

ip netns exec red ping -c 1 -W 1 192.168.15.5
ip netns exec blue ping -c 1 -W 1 192.168.15.5

ip netns exec red ping -c 1 -W 1 203.0.113.2
ip netns exec blue ping -c 1 -W 1 203.0.113.2

ip netns exec internet ping -c 1 -W 1 203.0.113.1

! ip netns exec internet ping -c 1 -W 0.2 192.168.15.1 || exit 1
! ip netns exec internet ping -c 1 -W 0.2 192.168.15.2 || exit 1
