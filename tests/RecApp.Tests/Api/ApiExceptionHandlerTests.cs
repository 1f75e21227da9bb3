using Npgsql;
using RecApp.Api.Validation;

namespace RecApp.Tests.Api;

/// <summary>How the last-resort handler classifies PostgreSQL failures (pure logic).</summary>
public sealed class ApiExceptionHandlerTests
{
    [Theory]
    [InlineData("22021", true)]  // character not in repertoire (a NUL in text)
    [InlineData("22001", true)]  // string data right truncation
    [InlineData("22P02", true)]  // invalid text representation
    [InlineData("23505", false)] // unique violation: not the client's data
    [InlineData("42P01", false)] // undefined table: a server fault
    public void Only_data_exceptions_count_as_rejected_client_data(string sqlState, bool rejected)
    {
        var postgres = new PostgresException("message", "ERROR", "ERROR", sqlState);

        Assert.Equal(rejected, ApiExceptionHandler.IsRejectedData(postgres));
        Assert.Equal(rejected, ApiExceptionHandler.IsRejectedData(new InvalidOperationException("wrapped", postgres)));
        Assert.False(ApiExceptionHandler.IsDatabaseOutage(postgres));
    }
}
