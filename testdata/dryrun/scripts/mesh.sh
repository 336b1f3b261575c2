#!/bin/sh
# nsscript lab mesh, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add h1
ip -n h1 link set lo up
ip netns add h2
ip -n h2 link set lo up
ip netns add h3
ip -n h3 link set lo up
ip netns add h4
ip -n h4 link set lo up

# veth pairs
ip link add h1-h2 address b6:11:fd:65:da:bd numtxqueues 1 numrxqueues 1 netns h1 type veth peer name h2-h1 address 2e:cc:6d:31:92:55 numtxqueues 1 numrxqueues 1 netns h2
ip link add h1-h3 address 62:60:1d:57:07:34 numtxqueues 1 numrxqueues 1 netns h1 type veth peer name h3-h1 address 4a:9c:8f:bd:b7:2b numtxqueues 1 numrxqueues 1 netns h3
ip link add h1-h4 address be:4e:bf:a0:00:c4 numtxqueues 1 numrxqueues 1 netns h1 type veth peer name h4-h1 address b6:7d:67:96:74:a1 numtxqueues 1 numrxqueues 1 netns h4
ip link add h2-h3 address 56:a0:b2:5c:e9:3c numtxqueues 1 numrxqueues 1 netns h2 type veth peer name h3-h2 address 6a:6d:49:83:95:d4 numtxqueues 1 numrxqueues 1 netns h3
ip link add h2-h4 address 26:f5:1f:ae:28:34 numtxqueues 1 numrxqueues 1 netns h2 type veth peer name h4-h2 address ae:a4:25:07:68:4b numtxqueues 1 numrxqueues 1 netns h4
ip link add h3-h4 address e2:e3:63:64:b7:09 numtxqueues 1 numrxqueues 1 netns h3 type veth peer name h4-h3 address ae:97:fc:c3:c3:9e numtxqueues 1 numrxqueues 1 netns h4

# addresses
ip -n h1 addr add 10.1.2.1/30 brd + dev h1-h2
ip -n h2 addr add 10.1.2.2/30 brd + dev h2-h1
ip -n h1 addr add 10.1.3.1/30 brd + dev h1-h3
ip -n h3 addr add 10.1.3.2/30 brd + dev h3-h1
ip -n h1 addr add 10.1.4.1/30 brd + dev h1-h4
ip -n h4 addr add 10.1.4.2/30 brd + dev h4-h1
ip -n h2 addr add 10.2.3.1/30 brd + dev h2-h3
ip -n h3 addr add 10.2.3.2/30 brd + dev h3-h2
ip -n h2 addr add 10.2.4.1/30 brd + dev h2-h4
ip -n h4 addr add 10.2.4.2/30 brd + dev h4-h2
ip -n h3 addr add 10.3.4.1/30 brd + dev h3-h4
ip -n h4 addr add 10.3.4.2/30 brd + dev h4-h3
ip -n h1 addr add 10.255.0.1/32 dev h1-h2
ip -n h2 addr add 10.255.0.2/32 dev h2-h1
ip -n h3 addr add 10.255.0.3/32 dev h3-h1
ip -n h4 addr add 10.255.0.4/32 dev h4-h1

# links up
ip -n h1 link set h1-h2 up
ip -n h2 link set h2-h1 up
ip -n h1 link set h1-h3 up
ip -n h3 link set h3-h1 up
ip -n h1 link set h1-h4 up
ip -n h4 link set h4-h1 up
ip -n h2 link set h2-h3 up
ip -n h3 link set h3-h2 up
ip -n h2 link set h2-h4 up
ip -n h4 link set h4-h2 up
ip -n h3 link set h3-h4 up
ip -n h4 link set h4-h3 up

# routes
ip -n h1 route add 10.255.0.2/32 via 10.1.2.2
ip -n h2 route add 10.255.0.1/32 via 10.1.2.1
ip -n h1 route add 10.255.0.3/32 via 10.1.3.2
ip -n h3 route add 10.255.0.1/32 via 10.1.3.1
ip -n h1 route add 10.255.0.4/32 via 10.1.4.2
ip -n h4 route add 10.255.0.1/32 via 10.1.4.1
ip -n h2 route add 10.255.0.3/32 via 10.2.3.2
ip -n h3 route add 10.255.0.2/32 via 10.2.3.1
ip -n h2 route add 10.255.0.4/32 via 10.2.4.2
ip -n h4 route add 10.255.0.2/32 via 10.2.4.1
ip -n h3 route add 10.255.0.4/32 via 10.3.4.2
ip -n h4 route add 10.255.0.3/32 via 10.3.4.1
