using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CacheGen.Redis.Tests.Infrastructure;

public sealed record LogLine(LogLevel Level, EventId EventId, string Category, string Message, string? Exception)
{
    public override string ToString() => $"{Level} {EventId.Id}/{EventId.Name} {Message} {Exception}";
}

/// <summary>A tiny logger provider that keeps every line (with its exception text) for assertions.</summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public IEnumerable<LogLine> WithEventId(int id) => Lines.Where(l => l.EventId.Id == id);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink._lines.Enqueue(new LogLine(logLevel, eventId, category, formatter(state, exception), exception?.ToString()));
    }
}
