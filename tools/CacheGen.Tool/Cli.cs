using StackExchange.Redis;

namespace CacheGen.Tool;

/// <summary>The command line: which command, its argument, and the exit codes.</summary>
internal static class Cli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NoCacheGenData = 3;

    public const string Help = """
        usage: cachegen <command> [settings]

          regions                 each region: its generation, entries (current and stale), tombstones and bytes
          show <key>              one entry decoded: generations, stamp, schema hash, checksum, size, TTL and the JSON
          watch [--count=N]       evictions on the backplane channel as they happen (Ctrl+C stops; --count=N after N)
          evict <region|tag>      evicts a region (or any tag) as the app does: in Redis and, through the backplane,
                                  in every instance's in-process cache

        settings, as the app reads them (later wins): appsettings.json and appsettings.{Environment}.json in the current
        folder (run it in the app's folder), environment variables such as CacheGen__Redis, the command line:
          --CacheGen:Redis=CONFIG       (or --redis=CONFIG) the StackExchange.Redis configuration string
          --CacheGen:KeyPrefix=PREFIX   (or --prefix=PREFIX) default "" (no prefix)
          --CacheGen:KeyVersion=N       (or --key-version=N) default 1
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        string[] positional = [.. args.Where(a => !a.StartsWith('-'))];
        string[] settings = [.. args.Where(a => a.StartsWith('-'))];
        if (positional.Length == 0 || settings.Any(a => a is "-h" or "--help"))
        {
            await output.WriteLineAsync(Help);
            return positional.Length == 0 && settings.Length == 0 ? Usage : Ok;
        }

        string command = positional[0];
        int arguments = command is "show" or "evict" ? 1 : 0;
        if (command is not ("regions" or "show" or "watch" or "evict") || positional.Length != 1 + arguments)
        {
            await errors.WriteLineAsync(command is "show" or "evict" ? $"cachegen {command} takes one argument" : $"unknown command line: {string.Join(' ', positional)}");
            await errors.WriteLineAsync(Help);
            return Usage;
        }

        Target target;
        try
        {
            target = Target.From(settings);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            await errors.WriteLineAsync("cachegen: " + e.Message);
            return Usage;
        }

        ConnectionMultiplexer connection;
        try
        {
            connection = await target.ConnectAsync();
        }
        catch (Exception e)
        {
            await errors.WriteLineAsync($"cachegen: cannot connect to {target.Describe()}: {target.Redact(e.Message)}");
            return Failed;
        }
        await using (connection)
        {
            if (!await target.HasCacheGenDataAsync(connection))
            {
                await errors.WriteLineAsync($"cachegen: no CacheGen data under prefix \"{target.Keys.Prefix}\" on {target.Describe()}; "
                    + "check --CacheGen:KeyPrefix, --CacheGen:KeyVersion and the database (defaultDatabase=N) against the app's settings");
                return NoCacheGenData;
            }
            return command switch
            {
                "regions" => await RegionsCommand.RunAsync(target, connection, output),
                "show" => await ShowCommand.RunAsync(target, connection, positional[1], output, errors),
                "watch" => await WatchCommand.RunAsync(target, connection, output),
                _ => await EvictCommand.RunAsync(target, connection, positional[1], output, errors),
            };
        }
    }
}
