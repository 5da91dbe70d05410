//! The domain's parsers (e-mail, username, full name, password, money): never a panic, and a value
//! they accept parses back to itself from its own text, so what is stored reads back the same.
#![no_main]

use hexgate_domain::money::Money;
use hexgate_domain::{Email, FullName, Password, Username};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let Ok(raw) = std::str::from_utf8(rest) else { return };
    match kind % 5 {
        0 => {
            if let Ok(email) = Email::parse(raw) {
                assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(&email));
            }
        }
        1 => {
            if let Ok(name) = Username::parse(raw) {
                assert_eq!(Username::parse(name.as_str()).as_ref(), Ok(&name));
            }
        }
        2 => {
            if let Ok(name) = FullName::parse(raw) {
                assert_eq!(FullName::parse(name.as_str()).as_ref(), Ok(&name));
            }
        }
        3 => {
            if let Ok(password) = Password::parse(raw) {
                assert_eq!(password.expose(), raw, "a password is taken as typed");
            }
        }
        _ => {
            if let Ok(money) = Money::parse(raw) {
                assert_eq!(Money::parse(&money.to_string()), Ok(money));
                assert!(money.amount().normalize().scale() <= 2);
            }
        }
    }
});
