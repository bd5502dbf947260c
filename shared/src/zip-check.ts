// placeholder: replaced by the zip inspection module
export {};
