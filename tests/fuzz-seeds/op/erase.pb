
b0ard_1oP0x2c1 2s9Kq12s28Å‹Ï“≠3Bgw-2