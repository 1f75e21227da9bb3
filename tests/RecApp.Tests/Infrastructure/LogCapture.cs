using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace RecApp.Tests.Infrastructure;

/// <summary>Every log line an API instance writes (at or above the configured levels), for tests that count or read them.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyCollection<LogLine> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    /// <summary>The factory's instance with this capture added to its logging.</summary>
    public WebApplicationFactory<Program> On(WebApplicationFactory<Program> api) =>
        api.WithWebHostBuilder(builder => builder.ConfigureLogging(logging => logging.AddProvider(this)));

    private sealed class Logger(string category, ConcurrentQueue<LogLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(new LogLine(logLevel, category, formatter(state, exception), exception));
    }
}

public sealed record LogLine(LogLevel Level, string Category, string Message, Exception? Exception);
