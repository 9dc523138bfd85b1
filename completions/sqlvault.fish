# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sqlvault_global_optspecs
    string join \n repo= password-file= key-file= json q/quiet no-progress h/help V/version
end

function __fish_sqlvault_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sqlvault_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sqlvault_using_subcommand
    set -l cmd (__fish_sqlvault_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sqlvault -n "__fish_sqlvault_needs_command" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_needs_command" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_needs_command" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_needs_command" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -s V -l version -d 'Print version'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "init" -d 'Create a new repository'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "backup" -d 'Back up databases; each becomes a restore point'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "discover" -d 'List the databases of a PostgreSQL, MariaDB or MySQL server and whether they are protected'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "points" -d 'List restore points'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "show" -d 'What a restore point holds: source, versions, streams, and each table\'s rows and fingerprint'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "restore" -d 'Restore a restore point into a new database'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "verify" -d 'Re-read every object of the repository; with --restore, test-restore every point'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "repair" -d 'Rebuild the index from the packs, remove what no restore point needs, name the points that cannot be restored'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "sessions" -d 'The history of runs recorded in the repository'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "policy" -d 'Policy files: check one'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "run" -d 'Back up whatever a policy says is due now (safe to call from cron every few minutes)'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "prune" -d 'Apply a policy\'s retention and delete the data no remaining point needs'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "archive" -d 'Move restore points older than the policy\'s archive age to the archive repository'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "rehydrate" -d 'Bring the objects a restore point needs back from the Azure Archive tier'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "wal" -d 'PostgreSQL WAL archiving: archive_command and restore_command'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "worker" -d 'Take jobs off an Azure Storage queue and run them (see --dispatch); `worker status` shows the queue'
complete -c sqlvault -n "__fish_sqlvault_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -l compression -d 'zstd level for data written to this repository (1-22)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -l no-encryption -d 'Store data unencrypted (anyone with access to the storage can read it)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand init" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l policy -d 'Back up the databases of this policy file now, outside its schedule, into its repository (all of them, or those named by --database)' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l type -d 'With --policy: the type of backup to take (default: full)' -r -f -a "full\t''
differential\t''"
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -s j -l jobs -d 'PostgreSQL, MariaDB: parallel connections copying tables' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l standby -d 'PostgreSQL, MariaDB: read the backup from this hot standby (replica) of the server, keeping the load off the primary' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l database -d 'PostgreSQL, MariaDB: these databases of the server, comma-separated; with --policy: only these of the policy\'s databases' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l compression -d 'zstd level for this backup (default: the repository\'s)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l staging -d 'How to get a consistent view of a live SQLite database' -r -f -a "auto\t'`direct` for WAL databases, `copy` for rollback-journal ones'
direct\t'Read pages from the live database in one read transaction'
copy\t'Copy the database with the online backup API into a staging file first, then read that; the staging file is removed afterwards'"
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l staging-dir -d 'Directory for staging copies (default: the system temp directory)' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l cluster -d 'With --physical: the cluster\'s name in the repository, as given to `wal push --cluster` (default: main)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l wal-timeout -d 'With --physical: seconds to wait for the WAL of the base backup to be archived' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l lock-wait-timeout -d 'MariaDB: seconds to wait for the brief lock that starts the snapshots of several connections; the backup fails rather than make the server wait behind a long query' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l defaults-file -d 'MariaDB: read the [client] options from this file instead of ~/.my.cnf' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l busy-timeout -d 'Seconds to wait for a database locked by a writer' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l staging-server -d 'Azure SQL: the server the database is copied to before its export (same subscription and resource group), for a consistent package' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l staging-container -d 'Azure SQL: the container the package passes through, azure://ACCOUNT/CONTAINER[/prefix] (its key or SAS is handed to the export and import services)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l sql-login -d 'Azure SQL: the SQL login the export and import services connect with' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l sql-password-env -d 'Azure SQL: the environment variable that holds the login\'s password' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l sql-password-file -d 'Azure SQL: a file whose first line is the login\'s password' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l sql-managed-identity -d 'Azure SQL: instead of a SQL login, the resource id of a user-assigned managed identity the export and import services authenticate as (to the database, and to the staging container when no key or SAS is set for it)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l subscription -d 'Azure SQL: the server\'s subscription, when the URL gives none (default: AZURE_SUBSCRIPTION_ID, else every one the identity sees)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l resource-group -d 'Azure SQL: the server\'s resource group, when the URL gives none' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l operation-timeout -d 'Azure SQL: seconds one database copy, export or import may take' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l dispatch -d 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source\'s own `queue` takes precedence' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l wait-timeout -d 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l all -d 'PostgreSQL, MariaDB: every database of the server (not templates or system schemas)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l physical -d 'PostgreSQL: a base backup of the whole cluster (for point-in-time recovery with the WAL that `wal push` archives), over a replication connection'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l no-staging -d 'Azure SQL: export the live database without a copy; consistent only if nothing writes to it meanwhile'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l no-wait -d 'With queued jobs: return once they are queued, without waiting for their results'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l defaults-file -d 'Read the MariaDB/MySQL client options (user, password, host, port, socket) from this option file instead of ~/.my.cnf, as the clients\' --defaults-file does' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l subscription -d 'Azure SQL: the server\'s subscription, when the URL gives none' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l resource-group -d 'Azure SQL: the server\'s resource group, when the URL gives none' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l include-templates -d 'Also list template databases (PostgreSQL)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand discover" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -l database -d 'Only restore points of this database' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -l policy -d 'List the points of this policy\'s repository and of its archive repository, with where each one lives' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand points" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -l database -d 'With `latest`: the latest point of this database' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -l policy -d 'Find the point in this policy\'s repository or its archive repository' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand show" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l to -d 'Where to restore: the path of the database file (or package) to create, a postgres:// or mariadb:// URL naming the database to create, or (a base backup) the data directory to create' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l database -d 'With `latest`: the latest point of this database' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -s j -l jobs -d 'PostgreSQL, MariaDB: parallel connections loading tables (and building indexes)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l table -d 'PostgreSQL, MariaDB: restore only this table (`schema.name`; MariaDB: its name) into an existing database. A BACPAC: write this table (`schema.name`) to the file --to names, as CSV or JSON lines' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l format -d 'A BACPAC\'s --table: `csv` (RFC 4180, a header row) or `jsonl` (one JSON object per row); default: from --to\'s extension (.jsonl), else csv' -r -f -a "csv\t'RFC 4180 CSV with a header row'
jsonl\t'One JSON object per row'"
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l policy -d 'Find the point in this policy\'s repository or, once archived, in its archive repository' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l check -d 'How to check the restored database before it is put in place (a base backup: recover it on a private server and run pg_amcheck)' -r -f -a "full\t'Recompute every table\'s fingerprint from the restored database and compare it with the one taken at backup (SQLite also: the whole file\'s hash and `PRAGMA integrity_check`)'
quick\t'Compare row counts only (SQLite also: `PRAGMA quick_check`)'
none\t'No check beyond the per-chunk checksums every restore verifies'"
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l time -d 'Recover to this time (\'2026-12-02 10:15:30+01\'; without an offset, local time)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l lsn -d 'Recover to this WAL location (0/3000028)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l xid -d 'Recover to the end of this transaction id' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l name -d 'Recover to this named restore point (pg_create_restore_point)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l timeline -d 'The timeline to follow (default: latest)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l tablespace-map -d 'Restore the tablespace at OLD to NEW instead (repeatable)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l owner -d 'Run as root: the user the restored files belong to (default postgres)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l pg-bin -d 'The directory holding the server binaries of the backup\'s major version' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l cluster -d 'With `latest`: the newest base backup of this cluster' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l dispatch -d 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source\'s own `queue` takes precedence' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l wait-timeout -d 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l staging-container -d 'Azure SQL: the container the package passes through, azure://ACCOUNT/CONTAINER[/prefix] (its key or SAS is handed to the export and import services)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l sql-login -d 'Azure SQL: the SQL login the export and import services connect with' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l sql-password-env -d 'Azure SQL: the environment variable that holds the login\'s password' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l sql-password-file -d 'Azure SQL: a file whose first line is the login\'s password' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l sql-managed-identity -d 'Azure SQL: instead of a SQL login, the resource id of a user-assigned managed identity the export and import services authenticate as (to the database, and to the staging container when no key or SAS is set for it)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l subscription -d 'Azure SQL: the server\'s subscription, when the URL gives none (default: AZURE_SUBSCRIPTION_ID, else every one the identity sees)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l resource-group -d 'Azure SQL: the server\'s resource group, when the URL gives none' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l operation-timeout -d 'Azure SQL: seconds one database copy, export or import may take' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l force -d 'Replace the target if it exists'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l clean -d 'PostgreSQL, MariaDB: replace the target database (or --table) even if it is not empty'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l binlog -d 'MariaDB: write the restore to the server\'s binary log, so that its replicas replay it (by default, like myloader, the restore is left out of it when the user may: SUPER or BINLOG ADMIN)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l immediate -d 'Recover only to where the base backup is consistent'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l exclusive -d 'Stop just before the target instead of just after it'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l keep-archiving -d 'Leave archive_mode on in the restored copy (it is turned off so a copy never pushes into the archive it came from)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l no-wait -d 'With queued jobs: return once they are queued, without waiting for their results'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l pg-server -d 'With --restore: a PostgreSQL server (postgres://user@host/) to restore PostgreSQL points into, each in a scratch database that is dropped afterwards' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l mariadb-server -d 'With --restore: a MariaDB or MySQL server (mariadb://user@host/) to restore MariaDB points into, each in a scratch database that is dropped afterwards' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l pg-bin -d 'With --restore: the directory holding the PostgreSQL server binaries that test-restore base backups (else found by the backup\'s version)' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l restore -d 'Also restore every restore point into a temporary directory and check it'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand verify" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l dry-run -d 'Say what would be rebuilt or removed, and why, without changing anything'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l forget-damaged -d 'Also delete the manifests of restore points that cannot be restored'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l read-data -d 'Read every pack (as `verify` does) and rewrite damaged ones with their intact chunks'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand repair" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -l last -d 'Show only the newest N sessions' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand sessions" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Validate a policy file and print its plan in words'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from check" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from check" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from check" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from check" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from check" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate a policy file and print its plan in words'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand policy; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l policy -d 'The policy file (TOML)' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l dispatch -d 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source\'s own `queue` takes precedence' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l wait-timeout -d 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l dry-run -d 'Show what is due without backing anything up'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l no-wait -d 'With queued jobs: return once they are queued, without waiting for their results'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand run" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -l policy -d 'The policy file (TOML) whose retention to apply' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -l dry-run -d 'Show what would be deleted, and why each kept point is kept'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand prune" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l policy -d 'The policy file (TOML) naming the archive repository' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l dispatch -d 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source\'s own `queue` takes precedence' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l wait-timeout -d 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l dry-run -d 'Show which restore points would move'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l no-wait -d 'With queued jobs: return once they are queued, without waiting for their results'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand archive" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l database -d 'With `latest`: the latest point of this database' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l priority -d 'How fast Azure should bring the objects back' -r -f -a "standard\t'Up to 15 hours, at the lower price'
high\t'Usually under an hour for small objects, at a higher price'"
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l wait -d 'Check again every few minutes until every object is back'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand rehydrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -f -a "push" -d 'Archive one WAL file (archive_command = \'sqlvault wal push %p ...\'); exits 0 only once it is stored'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -f -a "fetch" -d 'Restore one archived WAL file (restore_command = \'sqlvault wal fetch %f %p ...\'); exit 1: not in the archive'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -f -a "prefetch" -d 'Fetch the segments after FILE into the spool beside PATH (started by `wal fetch`)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and not __fish_seen_subcommand_from push fetch prefetch help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -l cluster -d 'The cluster\'s name in the repository; one per database cluster' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -l cluster -d 'The cluster\'s name in the repository' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -l prefetch -d 'Segments to fetch ahead, in parallel, while the server replays this one (0: none); they wait in `.sqlvault-prefetch` beside PATH' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from fetch" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -l cluster -d 'The cluster\'s name in the repository' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -l prefetch -d 'Segments to fetch ahead, in parallel, while the server replays this one (0: none); they wait in `.sqlvault-prefetch` beside PATH' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from prefetch" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from help" -f -a "push" -d 'Archive one WAL file (archive_command = \'sqlvault wal push %p ...\'); exits 0 only once it is stored'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from help" -f -a "fetch" -d 'Restore one archived WAL file (restore_command = \'sqlvault wal fetch %f %p ...\'); exit 1: not in the archive'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from help" -f -a "prefetch" -d 'Fetch the segments after FILE into the spool beside PATH (started by `wal fetch`)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand wal; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l queue -d 'The queue to take jobs from: azure-queue://ACCOUNT/QUEUE[?endpoint=URL] (credentials from the environment, as for azure:// repositories)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l visibility-timeout -d 'Seconds a job stays hidden from other workers without a heartbeat; a worker that dies releases its job after this long' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l idle-max -d 'Longest pause, in seconds, between two looks at an empty queue' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l max-jobs -d 'Stop after this many jobs (default: run until SIGTERM)' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -f -a "status" -d 'Jobs queued, running and poisoned on a queue, and the workers seen lately'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and not __fish_seen_subcommand_from status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -l queue -d 'The queue: azure-queue://ACCOUNT/QUEUE[?endpoint=URL]' -r
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -l repo -d 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user\'s data directory is used, created on first backup. With --policy, the policy\'s repositories are used instead' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -l password-file -d 'Read the repository password from the first line of this file' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -l key-file -d 'Use the whole content of this file as the repository key' -r -F
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -l json -d 'Print the session report as JSON on stdout'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print nothing but errors and the JSON report'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -l no-progress -d 'No progress bars, even on a terminal'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from help" -f -a "status" -d 'Jobs queued, running and poisoned on a queue, and the workers seen lately'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand worker; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "init" -d 'Create a new repository'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "backup" -d 'Back up databases; each becomes a restore point'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "discover" -d 'List the databases of a PostgreSQL, MariaDB or MySQL server and whether they are protected'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "points" -d 'List restore points'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "show" -d 'What a restore point holds: source, versions, streams, and each table\'s rows and fingerprint'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "restore" -d 'Restore a restore point into a new database'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "verify" -d 'Re-read every object of the repository; with --restore, test-restore every point'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "repair" -d 'Rebuild the index from the packs, remove what no restore point needs, name the points that cannot be restored'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "sessions" -d 'The history of runs recorded in the repository'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "policy" -d 'Policy files: check one'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "run" -d 'Back up whatever a policy says is due now (safe to call from cron every few minutes)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "prune" -d 'Apply a policy\'s retention and delete the data no remaining point needs'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "archive" -d 'Move restore points older than the policy\'s archive age to the archive repository'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "rehydrate" -d 'Bring the objects a restore point needs back from the Azure Archive tier'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "wal" -d 'PostgreSQL WAL archiving: archive_command and restore_command'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "worker" -d 'Take jobs off an Azure Storage queue and run them (see --dispatch); `worker status` shows the queue'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and not __fish_seen_subcommand_from init backup discover points show restore verify repair sessions policy run prune archive rehydrate wal worker help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and __fish_seen_subcommand_from policy" -f -a "check" -d 'Validate a policy file and print its plan in words'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and __fish_seen_subcommand_from wal" -f -a "push" -d 'Archive one WAL file (archive_command = \'sqlvault wal push %p ...\'); exits 0 only once it is stored'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and __fish_seen_subcommand_from wal" -f -a "fetch" -d 'Restore one archived WAL file (restore_command = \'sqlvault wal fetch %f %p ...\'); exit 1: not in the archive'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and __fish_seen_subcommand_from wal" -f -a "prefetch" -d 'Fetch the segments after FILE into the spool beside PATH (started by `wal fetch`)'
complete -c sqlvault -n "__fish_sqlvault_using_subcommand help; and __fish_seen_subcommand_from worker" -f -a "status" -d 'Jobs queued, running and poisoned on a queue, and the workers seen lately'
