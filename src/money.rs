//! Money: integer minor units with a currency. (Owned by the provider-protocols work.)
