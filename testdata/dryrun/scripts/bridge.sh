#!/bin/sh
# nsscript lab bridge, as printed by `nsscript run --dry-run`.
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
ip link add br-0 address 56:0b:77:38:84:56 group 1618246696 type bridge

# veth pairs
ip link add veth-red address 42:d5:36:76:12:e2 numtxqueues 1 numrxqueues 1 netns red type veth peer name veth-red-br address ae:b0:a7:61:3c:ae numtxqueues 1 numrxqueues 1 group 1618246696
ip link set veth-red-br master br-0
ip link add veth-blue address de:3c:e6:40:32:f4 numtxqueues 1 numrxqueues 1 netns blue type veth peer name veth-blue-br address 82:f2:ad:49:47:fc numtxqueues 1 numrxqueues 1 group 1618246696
ip link set veth-blue-br master br-0
ip link add uplink address 02:4f:4a:5e:60:21 numtxqueues 1 numrxqueues 1 group 1618246696 type veth peer name eth0 address ce:02:f7:ab:4f:a3 numtxqueues 1 numrxqueues 1 netns internet

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
iptables -t nat -A POSTROUTING -s 192.168.15.0/24 -o uplink -m comment --comment nsscript:bridge -j MASQUERADE
