"""Business rules. Every function takes the acting Principal first and checks it."""
