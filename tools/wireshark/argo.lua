-- Wireshark dissector for `argoctl capture` files (docs/capture.md): pcapng
-- with link type 147 (LINKTYPE_USER0), each packet a 40-byte little-endian
-- Argo capture record header followed by the captured payload.
--
-- Install: copy to ~/.local/lib/wireshark/plugins/ or load once with
-- `-X lua_script:argo.lua` (see README.md). Written against Wireshark 4.0
-- (Debian 12); the header offsets match toolstack_api/capture/capture_record.cc.

local argo = Proto("argo", "Xen Argo message")

local FLAG_IMPLICIT = 0x01
local FLAG_REFUSED = 0x02
local FLAG_WILDCARD = 0x04
local FLAG_FROM_HOST = 0x08

local HEADER_LEN_V1 = 40

-- The positive Xen errno values a capture can carry (argo_core/public/
-- xen_errno.h); 0 means the message was delivered.
local xen_errno_names = {
    [0] = "delivered",
    [1] = "EPERM",
    [2] = "ENOENT",
    [3] = "ESRCH",
    [5] = "EIO",
    [11] = "EAGAIN",
    [12] = "ENOMEM",
    [13] = "EACCES",
    [14] = "EFAULT",
    [16] = "EBUSY",
    [17] = "EEXIST",
    [19] = "ENODEV",
    [22] = "EINVAL",
    [28] = "ENOSPC",
    [38] = "ENOSYS",
    [40] = "ELOOP",
    [90] = "EMSGSIZE",
    [95] = "EOPNOTSUPP",
    [111] = "ECONNREFUSED",
}

-- Reserved domids that appear in the header (argo_core/public/argo.h).
local domid_names = {
    [0x7FF4] = "XEN_ARGO_DOMID_ANY",
    [0x7FF8] = "ARGO_DOMID_IMPLICIT",
    [0x7FF9] = "ARGO_DOMID_PARENT",
}

-- A message that crossed a level (docs/nesting.md): type "PATH", and the
-- payload starts with a block: magic, original type, dst_port, depth,
-- version, reserved, then depth hops (port u32, domid u16, pad u16).
local MSG_TYPE_PATH = 0x48544150
local PATH_MAGIC = 0x31504E41
local PATH_MAX_DEPTH = 8

local f = {
    version = ProtoField.uint8("argo.version", "Version", base.DEC),
    flags = ProtoField.uint8("argo.flags", "Flags", base.HEX),
    flag_implicit = ProtoField.bool("argo.flags.implicit",
        "Implicit destination", 8, nil, FLAG_IMPLICIT),
    flag_refused = ProtoField.bool("argo.flags.refused",
        "Refused", 8, nil, FLAG_REFUSED),
    flag_wildcard = ProtoField.bool("argo.flags.wildcard",
        "Wildcard ring", 8, nil, FLAG_WILDCARD),
    flag_from_host = ProtoField.bool("argo.flags.from_host",
        "From a host buffer", 8, nil, FLAG_FROM_HOST),
    header_len = ProtoField.uint16("argo.header_len", "Header length",
        base.DEC),
    msg_type = ProtoField.uint32("argo.msg_type", "Message type", base.DEC),
    src_port = ProtoField.uint32("argo.src_port", "Source port", base.DEC),
    src_domid = ProtoField.uint16("argo.src_domid", "Source domid", base.DEC),
    dst_domid = ProtoField.uint16("argo.dst_domid", "Destination domid",
        base.DEC, domid_names),
    dst_port = ProtoField.uint32("argo.dst_port", "Destination port",
        base.DEC),
    ring_partner = ProtoField.uint16("argo.ring_partner", "Ring partner",
        base.DEC, domid_names),
    errno = ProtoField.uint16("argo.errno", "Xen errno", base.DEC,
        xen_errno_names),
    payload_len = ProtoField.uint32("argo.payload_len", "Payload length",
        base.DEC),
    captured_len = ProtoField.uint32("argo.captured_len", "Captured length",
        base.DEC),
    path_len = ProtoField.uint32("argo.path_len", "Path length", base.DEC),
    path = ProtoField.bytes("argo.path", "Name path"),
    reserved = ProtoField.uint32("argo.reserved", "Reserved", base.HEX),
    np = ProtoField.none("argo.np", "Name path block"),
    np_type = ProtoField.uint32("argo.np.type", "Original message type",
        base.DEC),
    np_dst_port = ProtoField.uint32("argo.np.dst_port", "Port at this level",
        base.DEC),
    np_depth = ProtoField.uint8("argo.np.depth", "Depth", base.DEC),
    np_hop = ProtoField.string("argo.np.hop", "Hop"),
}
argo.fields = f

local e_short = ProtoExpert.new("argo.short", "Truncated Argo record header",
    expert.group.MALFORMED, expert.severity.ERROR)
local e_bad_header = ProtoExpert.new("argo.bad_header",
    "Argo record header is invalid",
    expert.group.MALFORMED, expert.severity.ERROR)
local e_refused = ProtoExpert.new("argo.refused.expert", "Send refused",
    expert.group.RESPONSE_CODE, expert.severity.NOTE)
argo.experts = { e_short, e_bad_header, e_refused }

local data_dissector = Dissector.get("data")

-- Decodes a name path block at the start of `tvb` (the captured payload);
-- returns its length, or 0 if it is not a whole, well-formed block.
local function dissect_name_path(tvb, tree)
    local len = tvb:captured_len()
    if len < 16 or tvb(0, 4):le_uint() ~= PATH_MAGIC then return 0 end
    local depth = tvb(12, 1):le_uint()
    local bytes = 16 + 8 * depth
    if depth == 0 or depth > PATH_MAX_DEPTH or len < bytes then return 0 end
    local block = tree:add(f.np, tvb(0, bytes))
    block:add_le(f.np_type, tvb(4, 4))
    block:add_le(f.np_dst_port, tvb(8, 4))
    block:add_le(f.np_depth, tvb(12, 1))
    local names = {}
    for i = 0, depth - 1 do
        local port = tvb(16 + 8 * i, 4):le_uint()
        local domid = tvb(20 + 8 * i, 2):le_uint()
        local who = domid == 0x7FF9 and "parent" or ("dom" .. domid)
        local name = who .. ":" .. port
        block:add(f.np_hop, tvb(16 + 8 * i, 8), name)
        names[#names + 1] = name
    end
    block:append_text(": " .. table.concat(names, "/"))
    return bytes
end

function argo.dissector(tvb, pinfo, tree)
    pinfo.cols.protocol:set("Argo")
    local len = tvb:captured_len()
    local root = tree:add(argo, tvb())
    if len < HEADER_LEN_V1 then
        root:add_proto_expert_info(e_short)
        pinfo.cols.info:set("Truncated Argo record")
        return len
    end

    local version = tvb(0, 1):le_uint()
    local flags = tvb(1, 1):le_uint()
    local header_len = tvb(2, 2):le_uint()
    local msg_type = tvb(4, 4):le_uint()
    local src_port = tvb(8, 4):le_uint()
    local src_domid = tvb(12, 2):le_uint()
    local dst_domid = tvb(14, 2):le_uint()
    local dst_port = tvb(16, 4):le_uint()
    local xen_errno = tvb(22, 2):le_uint()
    local payload_len = tvb(24, 4):le_uint()
    local captured_len = tvb(28, 4):le_uint()
    local path_len = tvb(32, 4):le_uint()

    root:add_le(f.version, tvb(0, 1))
    local flags_item = root:add_le(f.flags, tvb(1, 1))
    flags_item:add_le(f.flag_implicit, tvb(1, 1))
    flags_item:add_le(f.flag_refused, tvb(1, 1))
    flags_item:add_le(f.flag_wildcard, tvb(1, 1))
    flags_item:add_le(f.flag_from_host, tvb(1, 1))
    local header_item = root:add_le(f.header_len, tvb(2, 2))
    root:add_le(f.msg_type, tvb(4, 4))
    root:add_le(f.src_port, tvb(8, 4))
    root:add_le(f.src_domid, tvb(12, 2))
    root:add_le(f.dst_domid, tvb(14, 2))
    root:add_le(f.dst_port, tvb(16, 4))
    root:add_le(f.ring_partner, tvb(20, 2))
    local errno_item = root:add_le(f.errno, tvb(22, 2))
    root:add_le(f.payload_len, tvb(24, 4))
    root:add_le(f.captured_len, tvb(28, 4))
    root:add_le(f.path_len, tvb(32, 4))
    root:add_le(f.reserved, tvb(36, 4))

    local info = string.format("%d:%d → %d:%d type %d len %d", src_domid,
        src_port, dst_domid, dst_port, msg_type, payload_len)
    if bit.band(flags, FLAG_IMPLICIT) ~= 0 then
        info = info .. " (implicit)"
    end
    if bit.band(flags, FLAG_WILDCARD) ~= 0 then
        info = info .. " (wildcard)"
    end
    if bit.band(flags, FLAG_FROM_HOST) ~= 0 then
        info = info .. " (from host)"
    end
    if bit.band(flags, FLAG_REFUSED) ~= 0 then
        info = info .. " [" .. (xen_errno_names[xen_errno] or
            ("errno " .. xen_errno)) .. "]"
        errno_item:add_proto_expert_info(e_refused)
    end
    pinfo.cols.info:set(info)

    -- A reader skips header_len bytes (later versions may append fields);
    -- the name path, when present, follows the header, then the payload.
    if version == 0 or header_len < HEADER_LEN_V1 or header_len > len then
        header_item:add_proto_expert_info(e_bad_header)
        return len
    end
    local at = header_len
    if path_len > 0 then
        local n = math.min(path_len, len - at)
        root:add(f.path, tvb(at, n))
        at = at + n
    end
    root:set_len(at)
    local n = math.min(captured_len, len - at)
    if n > 0 and msg_type == MSG_TYPE_PATH then
        local block = dissect_name_path(tvb(at, n):tvb(), root)
        at = at + block
        n = n - block
    end
    if n > 0 then
        data_dissector:call(tvb(at, n):tvb(), pinfo, tree)
    end
    return len
end

-- Wireshark 4.0 names the encapsulations in `wtap_encaps`; `wtap` is the
-- older alias it still keeps.
local encaps = wtap_encaps or wtap
DissectorTable.get("wtap_encap"):add(encaps.USER0, argo)
