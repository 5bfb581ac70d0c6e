/* bridge.c (service-domain tool): wisp-agent puts a vif on the bridge and sets it up, as Xen's vif-bridge script does. */
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host.h"

static int set_name(struct ifreq *ifr, const char *name)
{
    memset(ifr, 0, sizeof(*ifr));
    if (strlen(name) >= sizeof(ifr->ifr_name))
        return -EINVAL;
    memcpy(ifr->ifr_name, name, strlen(name));
    return 0;
}

/* What brctl addif and ip link set up do, with the ioctls net/bridge/br_ioctl.c and dev_ioctl take. */
static int bridge_add_on(int sock, const char *bridge, const char *ifname)
{
    struct ifreq ifr;
    int index;

    if (set_name(&ifr, ifname))
        return -EINVAL;
    if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0)
        return -errno;
    index = ifr.ifr_ifindex;
    if (set_name(&ifr, bridge))
        return -EINVAL;
    ifr.ifr_ifindex = index;
    if (ioctl(sock, SIOCBRADDIF, &ifr) < 0 && errno != EBUSY)   /* EBUSY: already on it */
        return -errno;
    (void)set_name(&ifr, ifname);   /* fitted above */
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
        return -errno;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
        return -errno;
    return 0;
}

int host_bridge_add(const char *bridge, const char *ifname)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int err;

    if (sock < 0)
        return -errno;
    err = bridge_add_on(sock, bridge, ifname);
    close(sock);
    return err;
}
