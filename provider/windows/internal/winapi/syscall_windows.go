package winapi

//sys	LsaEnumerateLogonSessions(count *uint32, sessions **LUID) (ntstatus uint32) = secur32.LsaEnumerateLogonSessions
//sys	LsaGetLogonSessionData(id *LUID, data **SecurityLogonSessionData) (ntstatus uint32) = secur32.LsaGetLogonSessionData
//sys	LsaFreeReturnBuffer(buf uintptr) (ntstatus uint32) = secur32.LsaFreeReturnBuffer
//sys	NetSessionEnum(server *uint16, client *uint16, user *uint16, level uint32, buf **byte, prefMaxLen uint32, read *uint32, total *uint32, resume *uint32) (neterr error) = netapi32.NetSessionEnum
//sys	NetConnectionEnum(server *uint16, qualifier *uint16, level uint32, buf **byte, prefMaxLen uint32, read *uint32, total *uint32, resume *uint32) (neterr error) = netapi32.NetConnectionEnum
