#!/bin/sh
# One-shot of the compose topology (service `mongo-rs-init`): initiates the replica set rs0 over
# TOKIOS_MONGODB_MEMBERS once (a no-op when it already is), then waits until it has a primary.
set -eu
S=${TOKIOS_SECRETS_DIR:?}
MEMBERS=${TOKIOS_MONGODB_MEMBERS:?}

export MONGO_PW="$(cat "$S/mongo/root-password")"
export MEMBERS
# The password goes through the environment, not the command line; the script retries while the first member
# is still restarting after its first-run user creation.
exec mongosh --quiet --nodb --eval '
const members = process.env.MEMBERS.split(",").map((host, i) => ({ _id: i, host }));
const url = `mongodb://tokios:${encodeURIComponent(process.env.MONGO_PW)}@${members[0].host}/admin?directConnection=true&authSource=admin`;
let conn;
for (let i = 0; ; i++) {
  try { conn = new Mongo(url); break; } catch (e) { if (i >= 60) throw e; sleep(1000); }
}
const admin = conn.getDB("admin");
try {
  admin.adminCommand({ replSetGetStatus: 1 });
  print("mongo-rs-init: replica set rs0 already initiated");
} catch (e) {
  if (e.codeName !== "NotYetInitialized") throw e;
  admin.adminCommand({ replSetInitiate: { _id: "rs0", members } });
  print(`mongo-rs-init: initiated rs0 with ${members.length} members`);
}
for (let i = 0; !admin.adminCommand({ hello: 1 }).isWritablePrimary; i++) {
  if (i >= 120) throw new Error("no primary after 60 s");
  sleep(500);
}
print("mongo-rs-init: rs0 has a primary");
'
