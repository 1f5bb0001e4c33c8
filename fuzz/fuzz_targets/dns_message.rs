//! Fuzzes the DNS message parser: any bytes decode to a message or an error, never a panic;
//! a decoded message encodes, and decodes back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockets::dns::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::decode(data) else {
        return;
    };
    let bytes = m.encode().expect("a decoded message encodes");
    let again = Message::decode(&bytes).expect("an encoded message decodes");
    assert_eq!(again, m);
});
