
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sqlvault' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sqlvault'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sqlvault' {
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a new repository')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up databases; each becomes a restore point')
            [CompletionResult]::new('discover', 'discover', [CompletionResultType]::ParameterValue, 'List the databases of a PostgreSQL, MariaDB or MySQL server and whether they are protected')
            [CompletionResult]::new('points', 'points', [CompletionResultType]::ParameterValue, 'List restore points')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'What a restore point holds: source, versions, streams, and each table''s rows and fingerprint')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a restore point into a new database')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Re-read every object of the repository; with --restore, test-restore every point')
            [CompletionResult]::new('repair', 'repair', [CompletionResultType]::ParameterValue, 'Rebuild the index from the packs, remove what no restore point needs, name the points that cannot be restored')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'The history of runs recorded in the repository')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Policy files: check one')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Back up whatever a policy says is due now (safe to call from cron every few minutes)')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Apply a policy''s retention and delete the data no remaining point needs')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Move restore points older than the policy''s archive age to the archive repository')
            [CompletionResult]::new('rehydrate', 'rehydrate', [CompletionResultType]::ParameterValue, 'Bring the objects a restore point needs back from the Azure Archive tier')
            [CompletionResult]::new('wal', 'wal', [CompletionResultType]::ParameterValue, 'PostgreSQL WAL archiving: archive_command and restore_command')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Take jobs off an Azure Storage queue and run them (see --dispatch); `worker status` shows the queue')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;init' {
            [CompletionResult]::new('--compression', '--compression', [CompletionResultType]::ParameterName, 'zstd level for data written to this repository (1-22)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--no-encryption', '--no-encryption', [CompletionResultType]::ParameterName, 'Store data unencrypted (anyone with access to the storage can read it)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;backup' {
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Back up the databases of this policy file now, outside its schedule, into its repository (all of them, or those named by --database)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'With --policy: the type of backup to take (default: full)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: parallel connections copying tables')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: parallel connections copying tables')
            [CompletionResult]::new('--standby', '--standby', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: read the backup from this hot standby (replica) of the server, keeping the load off the primary')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: these databases of the server, comma-separated; with --policy: only these of the policy''s databases')
            [CompletionResult]::new('--compression', '--compression', [CompletionResultType]::ParameterName, 'zstd level for this backup (default: the repository''s)')
            [CompletionResult]::new('--staging', '--staging', [CompletionResultType]::ParameterName, 'How to get a consistent view of a live SQLite database')
            [CompletionResult]::new('--staging-dir', '--staging-dir', [CompletionResultType]::ParameterName, 'Directory for staging copies (default: the system temp directory)')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'With --physical: the cluster''s name in the repository, as given to `wal push --cluster` (default: main)')
            [CompletionResult]::new('--wal-timeout', '--wal-timeout', [CompletionResultType]::ParameterName, 'With --physical: seconds to wait for the WAL of the base backup to be archived')
            [CompletionResult]::new('--lock-wait-timeout', '--lock-wait-timeout', [CompletionResultType]::ParameterName, 'MariaDB: seconds to wait for the brief lock that starts the snapshots of several connections; the backup fails rather than make the server wait behind a long query')
            [CompletionResult]::new('--defaults-file', '--defaults-file', [CompletionResultType]::ParameterName, 'MariaDB: read the [client] options from this file instead of ~/.my.cnf')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a database locked by a writer')
            [CompletionResult]::new('--staging-server', '--staging-server', [CompletionResultType]::ParameterName, 'Azure SQL: the server the database is copied to before its export (same subscription and resource group), for a consistent package')
            [CompletionResult]::new('--staging-container', '--staging-container', [CompletionResultType]::ParameterName, 'Azure SQL: the container the package passes through, azure://ACCOUNT/CONTAINER[/prefix] (its key or SAS is handed to the export and import services)')
            [CompletionResult]::new('--sql-login', '--sql-login', [CompletionResultType]::ParameterName, 'Azure SQL: the SQL login the export and import services connect with')
            [CompletionResult]::new('--sql-password-env', '--sql-password-env', [CompletionResultType]::ParameterName, 'Azure SQL: the environment variable that holds the login''s password')
            [CompletionResult]::new('--sql-password-file', '--sql-password-file', [CompletionResultType]::ParameterName, 'Azure SQL: a file whose first line is the login''s password')
            [CompletionResult]::new('--sql-managed-identity', '--sql-managed-identity', [CompletionResultType]::ParameterName, 'Azure SQL: instead of a SQL login, the resource id of a user-assigned managed identity the export and import services authenticate as (to the database, and to the staging container when no key or SAS is set for it)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure SQL: the server''s subscription, when the URL gives none (default: AZURE_SUBSCRIPTION_ID, else every one the identity sees)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Azure SQL: the server''s resource group, when the URL gives none')
            [CompletionResult]::new('--operation-timeout', '--operation-timeout', [CompletionResultType]::ParameterName, 'Azure SQL: seconds one database copy, export or import may take')
            [CompletionResult]::new('--dispatch', '--dispatch', [CompletionResultType]::ParameterName, 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source''s own `queue` takes precedence')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: every database of the server (not templates or system schemas)')
            [CompletionResult]::new('--physical', '--physical', [CompletionResultType]::ParameterName, 'PostgreSQL: a base backup of the whole cluster (for point-in-time recovery with the WAL that `wal push` archives), over a replication connection')
            [CompletionResult]::new('--no-staging', '--no-staging', [CompletionResultType]::ParameterName, 'Azure SQL: export the live database without a copy; consistent only if nothing writes to it meanwhile')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'With queued jobs: return once they are queued, without waiting for their results')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sqlvault;discover' {
            [CompletionResult]::new('--defaults-file', '--defaults-file', [CompletionResultType]::ParameterName, 'Read the MariaDB/MySQL client options (user, password, host, port, socket) from this option file instead of ~/.my.cnf, as the clients'' --defaults-file does')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure SQL: the server''s subscription, when the URL gives none')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Azure SQL: the server''s resource group, when the URL gives none')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--include-templates', '--include-templates', [CompletionResultType]::ParameterName, 'Also list template databases (PostgreSQL)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;points' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'Only restore points of this database')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'List the points of this policy''s repository and of its archive repository, with where each one lives')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;show' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'With `latest`: the latest point of this database')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Find the point in this policy''s repository or its archive repository')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;restore' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where to restore: the path of the database file (or package) to create, a postgres:// or mariadb:// URL naming the database to create, or (a base backup) the data directory to create')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'With `latest`: the latest point of this database')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: parallel connections loading tables (and building indexes)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: parallel connections loading tables (and building indexes)')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: restore only this table (`schema.name`; MariaDB: its name) into an existing database. A BACPAC: write this table (`schema.name`) to the file --to names, as CSV or JSON lines')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'A BACPAC''s --table: `csv` (RFC 4180, a header row) or `jsonl` (one JSON object per row); default: from --to''s extension (.jsonl), else csv')
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'Find the point in this policy''s repository or, once archived, in its archive repository')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'How to check the restored database before it is put in place (a base backup: recover it on a private server and run pg_amcheck)')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'Recover to this time (''2026-12-02 10:15:30+01''; without an offset, local time)')
            [CompletionResult]::new('--lsn', '--lsn', [CompletionResultType]::ParameterName, 'Recover to this WAL location (0/3000028)')
            [CompletionResult]::new('--xid', '--xid', [CompletionResultType]::ParameterName, 'Recover to the end of this transaction id')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Recover to this named restore point (pg_create_restore_point)')
            [CompletionResult]::new('--timeline', '--timeline', [CompletionResultType]::ParameterName, 'The timeline to follow (default: latest)')
            [CompletionResult]::new('--tablespace-map', '--tablespace-map', [CompletionResultType]::ParameterName, 'Restore the tablespace at OLD to NEW instead (repeatable)')
            [CompletionResult]::new('--owner', '--owner', [CompletionResultType]::ParameterName, 'Run as root: the user the restored files belong to (default postgres)')
            [CompletionResult]::new('--pg-bin', '--pg-bin', [CompletionResultType]::ParameterName, 'The directory holding the server binaries of the backup''s major version')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'With `latest`: the newest base backup of this cluster')
            [CompletionResult]::new('--dispatch', '--dispatch', [CompletionResultType]::ParameterName, 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source''s own `queue` takes precedence')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)')
            [CompletionResult]::new('--staging-container', '--staging-container', [CompletionResultType]::ParameterName, 'Azure SQL: the container the package passes through, azure://ACCOUNT/CONTAINER[/prefix] (its key or SAS is handed to the export and import services)')
            [CompletionResult]::new('--sql-login', '--sql-login', [CompletionResultType]::ParameterName, 'Azure SQL: the SQL login the export and import services connect with')
            [CompletionResult]::new('--sql-password-env', '--sql-password-env', [CompletionResultType]::ParameterName, 'Azure SQL: the environment variable that holds the login''s password')
            [CompletionResult]::new('--sql-password-file', '--sql-password-file', [CompletionResultType]::ParameterName, 'Azure SQL: a file whose first line is the login''s password')
            [CompletionResult]::new('--sql-managed-identity', '--sql-managed-identity', [CompletionResultType]::ParameterName, 'Azure SQL: instead of a SQL login, the resource id of a user-assigned managed identity the export and import services authenticate as (to the database, and to the staging container when no key or SAS is set for it)')
            [CompletionResult]::new('--subscription', '--subscription', [CompletionResultType]::ParameterName, 'Azure SQL: the server''s subscription, when the URL gives none (default: AZURE_SUBSCRIPTION_ID, else every one the identity sees)')
            [CompletionResult]::new('--resource-group', '--resource-group', [CompletionResultType]::ParameterName, 'Azure SQL: the server''s resource group, when the URL gives none')
            [CompletionResult]::new('--operation-timeout', '--operation-timeout', [CompletionResultType]::ParameterName, 'Azure SQL: seconds one database copy, export or import may take')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the target if it exists')
            [CompletionResult]::new('--clean', '--clean', [CompletionResultType]::ParameterName, 'PostgreSQL, MariaDB: replace the target database (or --table) even if it is not empty')
            [CompletionResult]::new('--binlog', '--binlog', [CompletionResultType]::ParameterName, 'MariaDB: write the restore to the server''s binary log, so that its replicas replay it (by default, like myloader, the restore is left out of it when the user may: SUPER or BINLOG ADMIN)')
            [CompletionResult]::new('--immediate', '--immediate', [CompletionResultType]::ParameterName, 'Recover only to where the base backup is consistent')
            [CompletionResult]::new('--exclusive', '--exclusive', [CompletionResultType]::ParameterName, 'Stop just before the target instead of just after it')
            [CompletionResult]::new('--keep-archiving', '--keep-archiving', [CompletionResultType]::ParameterName, 'Leave archive_mode on in the restored copy (it is turned off so a copy never pushes into the archive it came from)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'With queued jobs: return once they are queued, without waiting for their results')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sqlvault;verify' {
            [CompletionResult]::new('--pg-server', '--pg-server', [CompletionResultType]::ParameterName, 'With --restore: a PostgreSQL server (postgres://user@host/) to restore PostgreSQL points into, each in a scratch database that is dropped afterwards')
            [CompletionResult]::new('--mariadb-server', '--mariadb-server', [CompletionResultType]::ParameterName, 'With --restore: a MariaDB or MySQL server (mariadb://user@host/) to restore MariaDB points into, each in a scratch database that is dropped afterwards')
            [CompletionResult]::new('--pg-bin', '--pg-bin', [CompletionResultType]::ParameterName, 'With --restore: the directory holding the PostgreSQL server binaries that test-restore base backups (else found by the backup''s version)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--restore', '--restore', [CompletionResultType]::ParameterName, 'Also restore every restore point into a temporary directory and check it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;repair' {
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be rebuilt or removed, and why, without changing anything')
            [CompletionResult]::new('--forget-damaged', '--forget-damaged', [CompletionResultType]::ParameterName, 'Also delete the manifests of restore points that cannot be restored')
            [CompletionResult]::new('--read-data', '--read-data', [CompletionResultType]::ParameterName, 'Read every pack (as `verify` does) and rewrite damaged ones with their intact chunks')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;sessions' {
            [CompletionResult]::new('--last', '--last', [CompletionResultType]::ParameterName, 'Show only the newest N sessions')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;policy' {
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a policy file and print its plan in words')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;policy;check' {
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;policy;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a policy file and print its plan in words')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;policy;help;check' {
            break
        }
        'sqlvault;policy;help;help' {
            break
        }
        'sqlvault;run' {
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'The policy file (TOML)')
            [CompletionResult]::new('--dispatch', '--dispatch', [CompletionResultType]::ParameterName, 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source''s own `queue` takes precedence')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what is due without backing anything up')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'With queued jobs: return once they are queued, without waiting for their results')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;prune' {
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'The policy file (TOML) whose retention to apply')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be deleted, and why each kept point is kept')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;archive' {
            [CompletionResult]::new('--policy', '--policy', [CompletionResultType]::ParameterName, 'The policy file (TOML) naming the archive repository')
            [CompletionResult]::new('--dispatch', '--dispatch', [CompletionResultType]::ParameterName, 'Run the jobs on the workers of this queue (azure-queue://ACCOUNT/QUEUE) instead of here; a policy source''s own `queue` takes precedence')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'With queued jobs: stop waiting for results after this many seconds (the jobs stay queued)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show which restore points would move')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'With queued jobs: return once they are queued, without waiting for their results')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;rehydrate' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'With `latest`: the latest point of this database')
            [CompletionResult]::new('--priority', '--priority', [CompletionResultType]::ParameterName, 'How fast Azure should bring the objects back')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Check again every few minutes until every object is back')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sqlvault;wal' {
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Archive one WAL file (archive_command = ''sqlvault wal push %p ...''); exits 0 only once it is stored')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Restore one archived WAL file (restore_command = ''sqlvault wal fetch %f %p ...''); exit 1: not in the archive')
            [CompletionResult]::new('prefetch', 'prefetch', [CompletionResultType]::ParameterValue, 'Fetch the segments after FILE into the spool beside PATH (started by `wal fetch`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;wal;push' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster''s name in the repository; one per database cluster')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;wal;fetch' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster''s name in the repository')
            [CompletionResult]::new('--prefetch', '--prefetch', [CompletionResultType]::ParameterName, 'Segments to fetch ahead, in parallel, while the server replays this one (0: none); they wait in `.sqlvault-prefetch` beside PATH')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;wal;prefetch' {
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'The cluster''s name in the repository')
            [CompletionResult]::new('--prefetch', '--prefetch', [CompletionResultType]::ParameterName, 'Segments to fetch ahead, in parallel, while the server replays this one (0: none); they wait in `.sqlvault-prefetch` beside PATH')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;wal;help' {
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Archive one WAL file (archive_command = ''sqlvault wal push %p ...''); exits 0 only once it is stored')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Restore one archived WAL file (restore_command = ''sqlvault wal fetch %f %p ...''); exit 1: not in the archive')
            [CompletionResult]::new('prefetch', 'prefetch', [CompletionResultType]::ParameterValue, 'Fetch the segments after FILE into the spool beside PATH (started by `wal fetch`)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;wal;help;push' {
            break
        }
        'sqlvault;wal;help;fetch' {
            break
        }
        'sqlvault;wal;help;prefetch' {
            break
        }
        'sqlvault;wal;help;help' {
            break
        }
        'sqlvault;worker' {
            [CompletionResult]::new('--queue', '--queue', [CompletionResultType]::ParameterName, 'The queue to take jobs from: azure-queue://ACCOUNT/QUEUE[?endpoint=URL] (credentials from the environment, as for azure:// repositories)')
            [CompletionResult]::new('--visibility-timeout', '--visibility-timeout', [CompletionResultType]::ParameterName, 'Seconds a job stays hidden from other workers without a heartbeat; a worker that dies releases its job after this long')
            [CompletionResult]::new('--idle-max', '--idle-max', [CompletionResultType]::ParameterName, 'Longest pause, in seconds, between two looks at an empty queue')
            [CompletionResult]::new('--max-jobs', '--max-jobs', [CompletionResultType]::ParameterName, 'Stop after this many jobs (default: run until SIGTERM)')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Jobs queued, running and poisoned on a queue, and the workers seen lately')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;worker;status' {
            [CompletionResult]::new('--queue', '--queue', [CompletionResultType]::ParameterName, 'The queue: azure-queue://ACCOUNT/QUEUE[?endpoint=URL]')
            [CompletionResult]::new('--repo', '--repo', [CompletionResultType]::ParameterName, 'Repository location: a directory, or azure://ACCOUNT/CONTAINER[/prefix] (credentials from the environment, see the README). Without it, the default repository in the user''s data directory is used, created on first backup. With --policy, the policy''s repositories are used instead')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the repository password from the first line of this file')
            [CompletionResult]::new('--key-file', '--key-file', [CompletionResultType]::ParameterName, 'Use the whole content of this file as the repository key')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the session report as JSON on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors and the JSON report')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'No progress bars, even on a terminal')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sqlvault;worker;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Jobs queued, running and poisoned on a queue, and the workers seen lately')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;worker;help;status' {
            break
        }
        'sqlvault;worker;help;help' {
            break
        }
        'sqlvault;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a new repository')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up databases; each becomes a restore point')
            [CompletionResult]::new('discover', 'discover', [CompletionResultType]::ParameterValue, 'List the databases of a PostgreSQL, MariaDB or MySQL server and whether they are protected')
            [CompletionResult]::new('points', 'points', [CompletionResultType]::ParameterValue, 'List restore points')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'What a restore point holds: source, versions, streams, and each table''s rows and fingerprint')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a restore point into a new database')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Re-read every object of the repository; with --restore, test-restore every point')
            [CompletionResult]::new('repair', 'repair', [CompletionResultType]::ParameterValue, 'Rebuild the index from the packs, remove what no restore point needs, name the points that cannot be restored')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'The history of runs recorded in the repository')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Policy files: check one')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Back up whatever a policy says is due now (safe to call from cron every few minutes)')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Apply a policy''s retention and delete the data no remaining point needs')
            [CompletionResult]::new('archive', 'archive', [CompletionResultType]::ParameterValue, 'Move restore points older than the policy''s archive age to the archive repository')
            [CompletionResult]::new('rehydrate', 'rehydrate', [CompletionResultType]::ParameterValue, 'Bring the objects a restore point needs back from the Azure Archive tier')
            [CompletionResult]::new('wal', 'wal', [CompletionResultType]::ParameterValue, 'PostgreSQL WAL archiving: archive_command and restore_command')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Take jobs off an Azure Storage queue and run them (see --dispatch); `worker status` shows the queue')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sqlvault;help;init' {
            break
        }
        'sqlvault;help;backup' {
            break
        }
        'sqlvault;help;discover' {
            break
        }
        'sqlvault;help;points' {
            break
        }
        'sqlvault;help;show' {
            break
        }
        'sqlvault;help;restore' {
            break
        }
        'sqlvault;help;verify' {
            break
        }
        'sqlvault;help;repair' {
            break
        }
        'sqlvault;help;sessions' {
            break
        }
        'sqlvault;help;policy' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate a policy file and print its plan in words')
            break
        }
        'sqlvault;help;policy;check' {
            break
        }
        'sqlvault;help;run' {
            break
        }
        'sqlvault;help;prune' {
            break
        }
        'sqlvault;help;archive' {
            break
        }
        'sqlvault;help;rehydrate' {
            break
        }
        'sqlvault;help;wal' {
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Archive one WAL file (archive_command = ''sqlvault wal push %p ...''); exits 0 only once it is stored')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Restore one archived WAL file (restore_command = ''sqlvault wal fetch %f %p ...''); exit 1: not in the archive')
            [CompletionResult]::new('prefetch', 'prefetch', [CompletionResultType]::ParameterValue, 'Fetch the segments after FILE into the spool beside PATH (started by `wal fetch`)')
            break
        }
        'sqlvault;help;wal;push' {
            break
        }
        'sqlvault;help;wal;fetch' {
            break
        }
        'sqlvault;help;wal;prefetch' {
            break
        }
        'sqlvault;help;worker' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Jobs queued, running and poisoned on a queue, and the workers seen lately')
            break
        }
        'sqlvault;help;worker;status' {
            break
        }
        'sqlvault;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
