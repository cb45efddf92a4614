-- sub_delete: remove a subscription. ARGV: id.
sub_remove(ARGV[1])
return 0
