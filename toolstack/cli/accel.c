/* accel.c (host tool): whether QEMU runs Wisp on the host's own SVM or VMX (KVM) or emulates them (TCG). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accel.h"

/* The first CPU's block of /proc/cpuinfo is all we read; it comes first. */
#define CPUINFO_READ_MAX 16384

static ssize_t read_file(const char *root, const char *path, char *buf, size_t size)
{
    char full[4096];
    ssize_t len, total = 0;
    int fd;

    snprintf(full, sizeof(full), "%s%s", root, path);
    fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while ((size_t)total < size - 1 && (len = read(fd, buf + total, size - 1 - total)) > 0)
        total += len;
    close(fd);
    buf[total] = '\0';
    return total;
}

/* The value after "KEY<blanks>: " on the first line that starts with KEY, or NULL. */
static const char *cpuinfo_value(const char *text, const char *key, size_t *len)
{
    size_t key_len = strlen(key);
    const char *line = text;

    while (line) {
        if (strncmp(line, key, key_len) == 0 && strchr(" \t:", line[key_len])) {
            const char *colon = strchr(line, ':');

            if (!colon)
                return NULL;
            colon++;
            colon += strspn(colon, " \t");
            *len = strcspn(colon, "\n");
            return colon;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

static bool has_word(const char *list, size_t len, const char *word)
{
    size_t word_len = strlen(word);

    for (size_t i = 0; i + word_len <= len; i++) {
        bool starts = i == 0 || list[i - 1] == ' ' || list[i - 1] == '\t';
        bool ends = i + word_len == len || list[i + word_len] == ' ';

        if (starts && ends && memcmp(list + i, word, word_len) == 0)
            return true;
    }
    return false;
}

static void read_cpuinfo(const char *root, struct host_virt *host)
{
    char *text = malloc(CPUINFO_READ_MAX);
    const char *value;
    size_t len;

    if (!text || read_file(root, "/proc/cpuinfo", text, CPUINFO_READ_MAX) < 0) {
        free(text);
        return;
    }
    value = cpuinfo_value(text, "vendor_id", &len);
    if (value && len == 12 && (memcmp(value, "AuthenticAMD", 12) == 0
                               || memcmp(value, "HygonGenuine", 12) == 0))
        host->vendor = HOST_VENDOR_AMD;
    else if (value && len == 12 && memcmp(value, "GenuineIntel", 12) == 0)
        host->vendor = HOST_VENDOR_INTEL;
    value = cpuinfo_value(text, "flags", &len);
    if (value && host->vendor != HOST_VENDOR_OTHER)
        host->cpu_flag = has_word(value, len, host->vendor == HOST_VENDOR_AMD ? "svm" : "vmx");
    free(text);
}

/* A module parameter: "Y"/"1" is on (kvm_amd writes 1, kvm_intel Y), anything else off. */
static enum host_param read_param(const char *root, const char *module, const char *name)
{
    char path[256], value[16];

    snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module, name);
    if (read_file(root, path, value, sizeof(value)) < 0)
        return PARAM_MISSING;
    return value[0] == 'Y' || value[0] == 'y' || value[0] == '1' ? PARAM_ON : PARAM_OFF;
}

void host_virt_read(const char *root, struct host_virt *host)
{
    char kvm[4096];
    const char *module;

    memset(host, 0, sizeof(*host));
    snprintf(kvm, sizeof(kvm), "%s/dev/kvm", root);
    host->kvm_errno = access(kvm, R_OK | W_OK) == 0 ? 0 : errno;
    read_cpuinfo(root, host);
    if (host->vendor == HOST_VENDOR_OTHER)
        return;
    module = host->vendor == HOST_VENDOR_AMD ? "kvm_amd" : "kvm_intel";
    host->nested = read_param(root, module, "nested");
    host->paging = read_param(root, module, host->vendor == HOST_VENDOR_AMD ? "npt" : "ept");
    host->unrestricted = host->vendor == HOST_VENDOR_AMD
                             ? PARAM_ON : read_param(root, module, "unrestricted_guest");
}

const char *host_root(void)
{
    const char *root = getenv("WISP_HOST_ROOT");

    return root ? root : "";
}

/* What the host lacks for KVM, as a phrase; NULL when it has everything. */
static const char *kvm_missing(const struct host_virt *host, char *buf, size_t size)
{
    bool amd = host->vendor == HOST_VENDOR_AMD;
    const char *module = amd ? "kvm_amd" : "kvm_intel";
    struct { enum host_param value; const char *name; } params[] = {
        { host->nested, "nested" },
        { host->paging, amd ? "npt" : "ept" },
        { host->unrestricted, "unrestricted_guest" },
    };

    if (host->kvm_errno == ENOENT)
        return "there is no /dev/kvm";
    if (host->kvm_errno) {
        snprintf(buf, size, "/dev/kvm cannot be opened read-write (%s)",
                 strerror(host->kvm_errno));
        return buf;
    }
    if (host->vendor == HOST_VENDOR_OTHER)
        return "the host CPU is neither AMD nor Intel (/proc/cpuinfo vendor_id)";
    if (!host->cpu_flag) {
        snprintf(buf, size, "the host CPU does not offer %s (/proc/cpuinfo flags)",
                 amd ? "svm" : "vmx");
        return buf;
    }
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        if (params[i].value == PARAM_ON)
            continue;
        snprintf(buf, size, "%s's %s is %s (/sys/module/%s/parameters/%s)", module,
                 params[i].name, params[i].value == PARAM_OFF ? "off" : "not there", module,
                 params[i].name);
        return buf;
    }
    return NULL;
}

void accel_decide(enum accel_choice choice, const struct host_virt *host,
                  struct accel_decision *out)
{
    char reason[160];
    const char *missing;

    memset(out, 0, sizeof(*out));
    if (choice == ACCEL_TCG) {
        snprintf(out->why, sizeof(out->why), "TCG, as --accel tcg asks");
        return;
    }
    missing = kvm_missing(host, reason, sizeof(reason));
    if (!missing) {
        out->kvm = true;
        snprintf(out->why, sizeof(out->why), "KVM: the host's %s with nested %s%s",
                 host->vendor == HOST_VENDOR_AMD ? "AMD SVM" : "Intel VMX",
                 host->vendor == HOST_VENDOR_AMD ? "paging" : "EPT",
                 choice == ACCEL_AUTO ? " (--accel tcg to emulate instead)" : "");
        return;
    }
    out->error = choice == ACCEL_KVM;
    snprintf(out->why, sizeof(out->why), out->error ? "--accel kvm: %s" : "TCG: %s", missing);
}

bool accel_parse(const char *text, enum accel_choice *choice)
{
    static const char *const names[] = { [ACCEL_AUTO] = "auto", [ACCEL_KVM] = "kvm",
                                         [ACCEL_TCG] = "tcg" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(text, names[i]) == 0) {
            *choice = (enum accel_choice)i;
            return true;
        }
    }
    return false;
}
