/*
 * xen_errno.h - the errno values of Xen's hypercall ABI (public/errno.h).
 *
 * Hypercalls return these negated. They coincide with Linux's values on
 * x86, but the ABI is Xen's, so guests compare against these names.
 */
#ifndef ARGO_CORE_PUBLIC_XEN_ERRNO_H_
#define ARGO_CORE_PUBLIC_XEN_ERRNO_H_

#define XEN_EPERM 1
#define XEN_ENOENT 2
#define XEN_ESRCH 3
/* Never returned by the hypervisor: the guest transport's "the daemon is
 * gone, the call did not run" (guest/attachment.h). */
#define XEN_EIO 5
#define XEN_EAGAIN 11
#define XEN_ENOMEM 12
#define XEN_EACCES 13
#define XEN_EFAULT 14
#define XEN_EBUSY 16
#define XEN_EEXIST 17
#define XEN_ENODEV 19
#define XEN_EINVAL 22
#define XEN_ENOSPC 28
#define XEN_ENOSYS 38
#define XEN_ELOOP 40
#define XEN_EMSGSIZE 90
#define XEN_EOPNOTSUPP 95
#define XEN_ECONNREFUSED 111

#endif /* ARGO_CORE_PUBLIC_XEN_ERRNO_H_ */
