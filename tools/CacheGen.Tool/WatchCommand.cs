using System.Globalization;
using System.Threading.Channels;
using CacheGen.Redis;
using StackExchange.Redis;

namespace CacheGen.Tool;

/// <summary>
/// <c>cachegen watch</c>: every eviction the app's instances publish on the backplane channel, as it happens (read with
/// the runtime's own message parser). Runs until Ctrl+C, or until <c>--count=N</c> evictions were shown.
/// </summary>
internal static class WatchCommand
{
    public static async Task<int> RunAsync(Target target, ConnectionMultiplexer connection, TextWriter output)
    {
        int? count = int.TryParse(target.Configuration["count"], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : null;
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        var messages = Channel.CreateUnbounded<RedisValue>(new UnboundedChannelOptions { SingleReader = true });
        ISubscriber subscriber = connection.GetSubscriber();
        RedisChannel channel = target.Keys.EvictionChannel;
        await subscriber.SubscribeAsync(channel, (_, message) => messages.Writer.TryWrite(message));
        // Printed once subscribed: an eviction from now on is shown.
        await output.WriteLineAsync($"watching evictions on {channel} ({target.Describe()})");
        await output.FlushAsync();

        int shown = 0;
        try
        {
            await foreach (RedisValue message in messages.Reader.ReadAllAsync(stop.Token))
            {
                if (!Backplane.TryParse(message.ToString(), out string instance, out char kind, out string name))
                {
                    await output.WriteLineAsync($"{Now()}  unreadable message ({message.ToString().Length} characters)");
                    continue;
                }
                string? what = kind switch
                {
                    't' => "tag   " + name,
                    'k' => "key   " + name,
                    'a' when name.Length == 0 => "all   (every entry: RemoveByTagAsync(\"*\"))",
                    'a' when EvictionBatch.TryRead(name, out char each, out List<string> names) =>
                        (each == 't' ? "tags  " : "keys  ") + string.Join(", ", names),
                    'a' => "all   (an unreadable batch: read as every entry)",
                    _ => null, // 'p': an instance's own probe after a reconnect, not an eviction
                };
                if (what is null)
                    continue;
                await output.WriteLineAsync($"{Now()}  {what}  (instance {instance[..Math.Min(8, instance.Length)]})");
                await output.FlushAsync();
                if (++shown == count)
                    break;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        await subscriber.UnsubscribeAsync(channel);
        return Cli.Ok;
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
