#!/bin/sh
# nsscript lab load, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add m1
ip -n m1 link set lo up
ip netns add m2
ip -n m2 link set lo up
ip netns add m3
ip -n m3 link set lo up

# bridges
ip link add br-lab address 72:ad:00:e0:32:ae group 1242725457 type bridge

# veth pairs
ip link add m1-br-lab address 8a:56:f8:28:b0:e2 numtxqueues 1 numrxqueues 1 netns m1 type veth peer name br-lab-m1 address 3e:e4:e6:b1:2c:c0 numtxqueues 1 numrxqueues 1 group 1242725457
ip link set br-lab-m1 master br-lab
ip link add m2-br-lab address ce:f9:1c:5c:58:37 numtxqueues 1 numrxqueues 1 netns m2 type veth peer name br-lab-m2 address 8e:41:b5:3d:71:83 numtxqueues 1 numrxqueues 1 group 1242725457
ip link set br-lab-m2 master br-lab
ip link add m3-br-lab address 4e:f4:76:8c:c7:3e numtxqueues 1 numrxqueues 1 netns m3 type veth peer name br-lab-m3 address 0a:23:51:24:89:33 numtxqueues 1 numrxqueues 1 group 1242725457
ip link set br-lab-m3 master br-lab

# addresses
ip addr add 172.31.7.254/24 brd + dev br-lab
ip -n m1 addr add 172.31.7.1/24 brd + dev m1-br-lab
ip -n m2 addr add 172.31.7.2/24 brd + dev m2-br-lab
ip -n m3 addr add 172.31.7.3/24 brd + dev m3-br-lab

# links up
ip -n m1 link set m1-br-lab up
ip link set br-lab-m1 up
ip -n m2 link set m2-br-lab up
ip link set br-lab-m2 up
ip -n m3 link set m3-br-lab up
ip link set br-lab-m3 up
ip link set br-lab up

# masquerade
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -A POSTROUTING -s 172.31.7.0/24 -m comment --comment nsscript:load -j MASQUERADE
