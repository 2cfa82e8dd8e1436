using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace CacheGen.Redis.Tests.Infrastructure;

/// <summary>
/// A logger provider that keeps everything a log sink could see: the formatted message, the exception's full
/// <c>ToString()</c> (inner exceptions and stack included), every structured state value, and the state of every
/// active scope. Used to prove that a secret reaches none of them, whatever sink an application plugs in.
/// </summary>
public sealed class FullLogRecorder : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _events = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    /// <summary>Every event as one text: level, event id, category, message, state values, scopes, exception.</summary>
    public IReadOnlyList<string> Events => [.. _events];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    /// <summary>Fails if <paramref name="secret"/> appears in any recorded event (ordinal, case-insensitive).</summary>
    public void AssertNowhere(string secret)
    {
        Assert.NotEmpty(_events);
        foreach (string logged in _events)
            Assert.False(logged.Contains(secret, StringComparison.OrdinalIgnoreCase), $"The secret was logged: {logged}");
    }

    public void Dispose()
    {
    }

    private sealed class Logger(FullLogRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => recorder._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder();
            text.Append(logLevel).Append(' ').Append(eventId.Id).Append('/').Append(eventId.Name).Append(' ').Append(category).Append(": ");
            text.Append(formatter(state, exception));
            AppendValues(text, "state", state);
            recorder._scopes.ForEachScope((scope, builder) => AppendValues(builder, "scope", scope), text);
            if (exception is not null)
                text.Append("\nexception: ").Append(exception);
            recorder._events.Enqueue(text.ToString());
        }

        private static void AppendValues(StringBuilder text, string kind, object? state)
        {
            text.Append("\n").Append(kind).Append(": ").Append(state);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (KeyValuePair<string, object?> value in values)
                    text.Append("\n  ").Append(value.Key).Append(" = ").Append(Describe(value.Value));
            }
        }

        // Structured sinks serialize the values themselves: a collection's items count, not just its type name.
        private static string? Describe(object? value) => value switch
        {
            null => "null",
            string s => s,
            System.Collections.IEnumerable items => string.Join(", ", items.Cast<object?>()),
            _ => value.ToString(),
        };
    }
}
