#!/bin/sh
# nsscript lab isolation_test, as printed by `nsscript run --dry-run`.
# Run it as root on a clean machine to build the same lab by hand.
set -e

# namespaces
ip netns add gw
ip -n gw link set lo up
ip netns add office
ip -n office link set lo up
ip netns add guest
ip -n guest link set lo up
ip netns add web
ip -n web link set lo up
ip netns add legacy
ip -n legacy link set lo up

# bridges
ip -n gw link add lan address ee:70:a6:c4:55:22 type bridge
ip -n gw link add dmz address 02:83:6b:82:af:45 type bridge

# veth pairs
ip link add eth0 address 0e:3c:b7:49:e5:2b numtxqueues 1 numrxqueues 1 netns office type veth peer name lan-office address 1e:cf:8f:bb:aa:8b numtxqueues 1 numrxqueues 1 netns gw
ip -n gw link set lan-office master lan
ip link add eth0 address 4a:c6:5a:42:43:ca numtxqueues 1 numrxqueues 1 netns guest type veth peer name lan-guest address a6:51:87:af:c7:da numtxqueues 1 numrxqueues 1 netns gw
ip -n gw link set lan-guest master lan
ip link add eth0 address aa:07:f5:54:1a:90 numtxqueues 1 numrxqueues 1 netns web type veth peer name dmz-web address ce:51:fb:c6:37:63 numtxqueues 1 numrxqueues 1 netns gw
ip -n gw link set dmz-web master dmz
ip link add eth0 address 62:68:61:01:9f:e8 numtxqueues 1 numrxqueues 1 netns legacy type veth peer name dmz-legacy address d6:63:a7:27:2c:47 numtxqueues 1 numrxqueues 1 netns gw
ip -n gw link set dmz-legacy master dmz

# sysctls
ip netns exec gw sysctl -qw net.ipv4.ip_forward=1

# addresses
ip -n gw addr add 10.1.0.254/24 brd + dev lan
ip -n gw addr add 10.2.0.254/24 brd + dev dmz
ip -n office addr add 10.1.0.1/24 brd + dev eth0
ip -n guest addr add 10.1.0.2/24 brd + dev eth0
ip -n web addr add 10.2.0.1/24 brd + dev eth0
ip -n legacy addr add 10.2.0.2/24 brd + dev eth0

# links up
ip -n office link set eth0 up
ip -n gw link set lan-office up
ip -n guest link set eth0 up
ip -n gw link set lan-guest up
ip -n web link set eth0 up
ip -n gw link set dmz-web up
ip -n legacy link set eth0 up
ip -n gw link set dmz-legacy up
ip -n gw link set lan up
ip -n gw link set dmz up

# routes
ip -n office route add default via 10.1.0.254
ip -n guest route add default via 10.1.0.254
ip -n web route add default via 10.2.0.254

ip netns exec gw iptables -A FORWARD -s 10.1.0.2 -o dmz -j DROP

ip netns exec office ping -c 1 -W 1 10.1.0.2
ip netns exec office ping -c 1 -W 1 10.2.0.1

ip netns exec guest ping -c 1 -W 1 10.1.0.1
ip netns exec guest ping -c 1 -W 1 10.1.0.254

ip netns exec web ping -c 1 -W 1 10.2.0.2

! ip netns exec guest ping -c 1 -W 0.2 10.2.0.1 || exit 1
! ip netns exec guest ping -c 1 -W 0.2 10.2.0.2 || exit 1

! ip netns exec office ping -c 1 -W 0.2 10.2.0.2 || exit 1
! ip netns exec guest ping -c 1 -W 0.2 10.2.0.2 || exit 1
