#!/usr/bin/env python3
# Checks the field numbers, enum values and scalar types of yarn/proto/*.proto
# against the Java classes Hadoop generated from its own .proto files (javap on
# the hadoop-yarn-api and hadoop-common jars in ~/.m2, there once the test
# Hadoop was built). Run from yarn/proto: python3 checkfields.py *.proto
import re, subprocess, sys, glob
import os
m2 = os.path.expanduser('~/.m2/repository/org/apache/hadoop/')
cp = ':'.join([m2+'hadoop-yarn-api/3.5.0/hadoop-yarn-api-3.5.0.jar', m2+'hadoop-common/3.5.0/hadoop-common-3.5.0.jar'])
outer = {}
for n in 'RpcKindProto RPCTraceInfoProto RPCCallerContextProto RpcRequestHeaderProto RpcResponseHeaderProto RpcSaslProto'.split(): outer[n]='org.apache.hadoop.ipc.protobuf.RpcHeaderProtos'
for n in 'UserInformationProto IpcConnectionContextProto'.split(): outer[n]='org.apache.hadoop.ipc.protobuf.IpcConnectionContextProtos'
outer['RequestHeaderProto']='org.apache.hadoop.ipc.protobuf.ProtobufRpcEngine2Protos'
for n in 'TokenProto CredentialsKVProto CredentialsProto GetDelegationTokenRequestProto GetDelegationTokenResponseProto RenewDelegationTokenRequestProto RenewDelegationTokenResponseProto CancelDelegationTokenRequestProto'.split(): outer[n]='org.apache.hadoop.security.proto.SecurityProtos'
def javap(cls, consts):
    r = subprocess.run(['javap'] + (['-constants'] if consts else []) + ['-cp', cp, cls], capture_output=True, text=True)
    return r.stdout + r.stderr
scal = {'int32':'int','uint32':'int','sint32':'int','int64':'long','uint64':'long','string':'java.lang.String','bool':'boolean','float':'float','bytes':'ByteString','double':'double'}
bad = 0
for f in sys.argv[1:]:
    src = open(f).read()
    default_outer = 'org.apache.hadoop.yarn.proto.YarnServiceProtos' if 'service' in f else 'org.apache.hadoop.yarn.proto.YarnProtos'
    # messages (with one nesting level)
    stack = []
    for line in src.split('\n'):
        s = line.strip()
        mm = re.match(r'(message|enum) (\w+) \{', s)
        if mm:
            stack.append((mm.group(1), mm.group(2)))
            if s.endswith('{}'): stack.pop()
            continue
        if s == '}' and stack:
            stack.pop(); continue
        if not stack: continue
        kind, name = stack[-1]
        top = stack[0][1]
        o = outer.get(top, default_outer)
        cls = o + '$' + '$'.join(n for _, n in stack)
        if kind == 'enum':
            em = re.match(r'(\w+) = (-?\d+);', s)
            if em:
                out = javap(cls, True)
                m2_ = re.search(r'int %s_VALUE = (-?\d+);' % em.group(1), out)
                if not m2_ or m2_.group(1) != em.group(2):
                    print('ENUM MISMATCH', cls, em.group(1), em.group(2), m2_ and m2_.group(1)); bad += 1
            continue
        fm = re.match(r'(optional|required|repeated) ([\w.]+) (\w+) = (\d+)', s)
        if not fm: continue
        lab, typ, fname, num = fm.groups()
        out = javap(cls, True)
        m2_ = re.search(r'int %s_FIELD_NUMBER = (\d+);' % fname.upper(), out)
        if not m2_ or m2_.group(1) != num:
            print('FIELD MISMATCH', cls, fname, num, m2_ and m2_.group(1)); bad += 1; continue
        camel = re.sub(r'_(\w)', lambda x: x.group(1).upper(), fname)
        camel = camel[0].upper() + camel[1:]
        getter = 'get' + camel + ('List' if lab == 'repeated' else '')
        gm = re.search(r'public (?:final )?(\S+) %s\(\);' % getter, out)
        jt = gm.group(1) if gm else None
        want = scal.get(typ, typ.split('.')[-1])
        ok = jt and (jt.endswith(want) or (lab=='repeated') )
        if lab == 'repeated' and jt: ok = want.split('.')[-1] in jt or (typ=='string' and 'ProtocolStringList' in jt) or typ in scal
        if not ok:
            print('TYPE MISMATCH', cls, fname, typ, jt); bad += 1
print('checked', sys.argv[1:], 'mismatches', bad)
