/**
 * Generated from docs/openapi.json by openapi-typescript (`npm run generate:openapi`).
 * Do not edit: test/openapi.test.ts fails when it drifts.
 */

export interface paths {
    "/http/channels/{chanId}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Publish a message on a channel (Authorization: the thing key); any payload */
        post: operations["publishMessage"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/http/channels/{chanId}/messages/{subtopic}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Publish a message on a subtopic of a channel (Authorization: the thing key); any payload */
        post: operations["publishMessageToSubtopic"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels/{chanId}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Publish a message on a channel (Authorization: the thing key); any payload */
        post: operations["publishMessageUnprefixed"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels/{chanId}/messages/{subtopic}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Publish a message on a subtopic of a channel (Authorization: the thing key); any payload */
        post: operations["publishMessageToSubtopicUnprefixed"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/configs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List bootstrap configs */
        get: operations["listConfigs"];
        put?: never;
        /** Create a bootstrap config (and its thing unless thing_id is given) */
        post: operations["createConfig"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/configs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** View a bootstrap config */
        get: operations["getConfig"];
        /** Replace name and content */
        put: operations["updateConfig"];
        post?: never;
        /** Remove a config (the thing and its connections stay) */
        delete: operations["removeConfig"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/configs/certs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Replace the certificates a gateway receives */
        patch: operations["updateConfigCerts"];
        trace?: never;
    };
    "/things/configs/connections/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Replace the config's channels (an active config's connections follow) */
        put: operations["updateConfigChannels"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/state/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Whitelist (1: connect to the config channels) or deactivate (0) */
        put: operations["changeConfigState"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/bootstrap/{externalId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A gateway fetches its config; Authorization: <external key> */
        get: operations["fetchBootstrapConfig"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/bootstrap/secure/{externalId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The same, AES-CFB encrypted both ways (Authorization: hex(iv ‖ encrypted key)) */
        get: operations["fetchBootstrapConfigSecure"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/bootstrap/sealed/{externalId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The same, sealed for this gateway alone (AES-256-GCM); Authorization: <external key> */
        get: operations["fetchBootstrapConfigSealed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/mapping": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The bootstrap content provisioned configs get */
        get: operations["getProvisionContent"];
        put?: never;
        /** Provision a gateway: the layout's things and channels, bootstrap configs, connections and certificates, all or nothing */
        post: operations["provisionGateway"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/layouts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The layouts you may use: the server’s (default) first, then yours by name */
        get: operations["listLayouts"];
        put?: never;
        /** Store a named layout (400 naming the line of a problem; 409 for a name you use, or default) */
        post: operations["createLayout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/layouts/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A layout of yours, or the server’s (default) */
        get: operations["getLayout"];
        /** Replace a layout's TOML (default is read-only: 403) */
        put: operations["updateLayout"];
        post?: never;
        /** Remove a layout (default is read-only: 403) */
        delete: operations["removeLayout"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/enrollments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's enrollment groups */
        get: operations["listEnrollments"];
        put?: never;
        /** Create an enrollment group */
        post: operations["createEnrollment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/enrollments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An enrollment group */
        get: operations["getEnrollment"];
        put?: never;
        post?: never;
        /** Remove an enrollment group (its devices stay as they are) */
        delete: operations["removeEnrollment"];
        options?: never;
        head?: never;
        /** Change enabled, max_devices, parameters or registration_id_pattern */
        patch: operations["updateEnrollment"];
        trace?: never;
    };
    "/enrollments/{id}/rotate-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A new group key; the old one stops working at once */
        post: operations["rotateEnrollmentKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/enrollments/{id}/registrations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A group's registered devices */
        get: operations["listRegistrations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/enrollments/{id}/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A device registers itself: Authorization: SharedKey <base64(HMAC-SHA256(group key, registration_id))>, or a client certificate from the group's CA on the HTTPS listener */
        post: operations["registerDevice"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List users (the admin sees all; everyone else only themselves) */
        get: operations["listUsers"];
        /** Replace the caller's metadata */
        put: operations["updateUser"];
        /** Register a user */
        post: operations["registerUser"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Log in: issue a login token (valid 10 h) */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/profile": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's profile */
        get: operations["getProfile"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** View a user */
        get: operations["getUser"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change the password */
        patch: operations["changePassword"];
        trace?: never;
    };
    "/password/reset-request": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mail a password-reset link (needs SMTP and a Referer header) */
        post: operations["requestPasswordReset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/password/reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Set a new password with the token from the reset mail */
        put: operations["resetPassword"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Issue a key: type 2 = API key (needs a login token), duration in seconds (0 = never expires) */
        post: operations["issueKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/keys/{keyId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** View an API key you issued */
        get: operations["getKey"];
        put?: never;
        post?: never;
        /** Revoke an API key (204 even when it does not exist) */
        delete: operations["revokeKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/groups": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's groups */
        get: operations["listGroups"];
        put?: never;
        /** Create a group (under parent_id if given) */
        post: operations["createGroup"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/groups/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** View a group */
        get: operations["getGroup"];
        /** Replace name, description and metadata */
        put: operations["updateGroup"];
        post?: never;
        /** Remove a group and its subtree (409 while it has members) */
        delete: operations["removeGroup"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/groups/{id}/children": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The group and its descendants down to `level` */
        get: operations["listGroupChildren"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/groups/{id}/parents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The group and its ancestors up to `level` */
        get: operations["listGroupParents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/groups/{id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A group's members */
        get: operations["listGroupMembers"];
        put?: never;
        /** Assign members (all or none) */
        post: operations["assignGroupMembers"];
        /** Unassign members */
        delete: operations["unassignGroupMembers"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/members/{memberId}/groups": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's groups a member is in */
        get: operations["listMemberships"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/groups/things/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's things in a group */
        get: operations["listGroupThings"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/groups/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The accounts in a group (others only for the admin) */
        get: operations["listGroupUsers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List things */
        get: operations["listThings"];
        put?: never;
        /** Create a thing */
        post: operations["createThing"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/bulk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create many things, all or nothing */
        post: operations["createThings"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** View a thing */
        get: operations["getThing"];
        /** Replace name and metadata */
        put: operations["updateThing"];
        post?: never;
        /** Remove a thing (204 also when missing) */
        delete: operations["removeThing"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/{id}/key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change a thing's key */
        patch: operations["updateThingKey"];
        trace?: never;
    };
    "/things/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Search things by name and metadata */
        post: operations["searchThings"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/{id}/channels": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A thing's channels (or, with disconnected=true, the others) */
        get: operations["listThingChannels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List channels */
        get: operations["listChannels"];
        put?: never;
        /** Create a channel */
        post: operations["createChannel"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels/bulk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create many channels, all or nothing */
        post: operations["createChannels"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** View a channel */
        get: operations["getChannel"];
        /** Replace name and metadata */
        put: operations["updateChannel"];
        post?: never;
        /** Remove a channel (204 always) */
        delete: operations["removeChannel"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels/{id}/things": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A channel's things (or, with disconnected=true, the others) */
        get: operations["listChannelThings"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/connect": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Connect every listed channel with every listed thing, all or nothing */
        post: operations["connect"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels/{chanId}/things/{thingId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Connect one thing to one channel */
        put: operations["connectThing"];
        post?: never;
        /** Disconnect a thing from a channel */
        delete: operations["disconnectThing"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/identify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Thing key → thing id */
        post: operations["identifyThing"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/identify/channels/{chanId}/access-by-key": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** May the thing with this key use the channel? */
        post: operations["canAccessByKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/identify/channels/{chanId}/access-by-id": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** May this thing use the channel? */
        post: operations["canAccessById"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Events: every change and who made it. A user reads those about their own entities, the admin all */
        get: operations["listEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/things/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A thing's history: its events, its connections' and (things) its config's and certificates', also after it was removed */
        get: operations["listThingEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/channels/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A channel's history: its events, its connections' and (things) its config's and certificates', also after it was removed */
        get: operations["listChannelEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Valid certificates expiring within a window, soonest first: the caller's (the admin: everyone's) */
        get: operations["listExpiringCerts"];
        put?: never;
        /** Issue a certificate for one of the caller's things */
        post: operations["issueCert"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs/crl": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The certificate revocation list (PEM; DER with Accept: application/pkix-crl or ?format=der) */
        get: operations["getCrl"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs/{thingId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A thing's certificate records (201, as 0.12.1 answers) */
        get: operations["listCerts"];
        put?: never;
        post?: never;
        /** Revoke a thing's certificates */
        delete: operations["revokeCerts"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a thing's certificates (the seed document's form) */
        delete: operations["revokeCertsByBody"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs/ocsp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** OCSP (RFC 6960): the status of certificates Tethys issued, for a DER request */
        post: operations["ocspPost"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs/ocsp/{request}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** OCSP (RFC 6960 A.1): the request as URL-encoded base64 DER in the path */
        get: operations["ocspGet"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs/{serial}/renew": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Renew one of the caller's certificates, named by serial (cert_serial): a new one for the same thing (201, as POST /certs) */
        post: operations["renewCert"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/certs/renew": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A device renews its own certificate (HTTPS listener; it authenticates with its current client certificate, issued here, valid, not revoked) */
        post: operations["renewOwnCert"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/est/cacerts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** EST: the CA certificates (RFC 7030 §4.1; base64 PKCS#7 certs-only) */
        get: operations["estCaCerts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/est/simplereenroll": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** EST: re-enrollment (RFC 7030 §4.2.2): a base64 DER PKCS#10 request in (application/pkcs10), the new certificate out (base64 PKCS#7); authenticated by the current client certificate (HTTPS listener) */
        post: operations["estSimpleReenroll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/version": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Service name and the Mainflux API version spoken */
        get: operations["getVersion"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Healthy (200) when the database answers and the message bus, if any, is connected; else 503 */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: never;
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    publishMessage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted: the message bus has it */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    publishMessageToSubtopic: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
                /** @description the subtopic: words separated by / */
                subtopic: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted: the message bus has it */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    publishMessageUnprefixed: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted: the message bus has it */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    publishMessageToSubtopicUnprefixed: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
                /** @description the subtopic: words separated by / */
                subtopic: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted: the message bus has it */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listConfigs: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, at most 100 (larger: 100) */
                limit?: string;
                /** @description 0 inactive | 1 active */
                state?: "" | "0" | "1";
                /** @description exact */
                external_id?: string;
                /** @description thing id, exact */
                mainflux_id?: string;
                /** @description thing key, exact */
                mainflux_key?: string;
                /** @description case-insensitive substring */
                name?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of bootstrap configs (without their channels) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        configs: {
                            mainflux_id: string;
                            mainflux_key: string;
                            mainflux_channels?: {
                                id: string;
                                name?: string;
                                metadata: {
                                    [key: string]: unknown;
                                } | null;
                            }[];
                            external_id: string;
                            external_key?: string;
                            content?: string;
                            name?: string;
                            /** @description 0 inactive, 1 active */
                            state: number;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createConfig: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "external_id": "02:42:ac:11:00:02",
                 *       "external_key": "a-secret-of-the-gateway",
                 *       "name": "edge-gw",
                 *       "channels": [
                 *         "3a0b0e16-0b1a-4b5f-9a8e-1c5d2f0e7a44"
                 *       ],
                 *       "content": "{\"agent\":{\"heartbeat\":{\"interval\":\"10s\"}}}"
                 *     }
                 */
                "application/json": {
                    thing_id?: string | null;
                    external_id?: string | null;
                    external_key?: string | null;
                    channels?: string[] | null;
                    name?: string | null;
                    content?: string | null;
                    client_cert?: string | null;
                    client_key?: string | null;
                    ca_cert?: string | null;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    /** @description the new config (by its thing id) */
                    Location?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getConfig: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A bootstrap config */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        mainflux_id: string;
                        mainflux_key: string;
                        mainflux_channels?: {
                            id: string;
                            name?: string;
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                        }[];
                        external_id: string;
                        external_key?: string;
                        content?: string;
                        name?: string;
                        /** @description 0 inactive, 1 active */
                        state: number;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateConfig: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string | null;
                    content?: string | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    removeConfig: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed (also when there was none) */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateConfigCerts: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    client_cert?: string | null;
                    client_key?: string | null;
                    ca_cert?: string | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateConfigChannels: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    channels?: string[] | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    changeConfigState: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    state?: number | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    fetchBootstrapConfig: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                externalId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description What a gateway receives (the Mainflux Agent's format) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        mainflux_id: string;
                        mainflux_key: string;
                        mainflux_channels: {
                            id: string;
                            name?: string;
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                        }[] | null;
                        content?: string;
                        client_cert?: string;
                        client_key?: string;
                        ca_cert?: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    fetchBootstrapConfigSecure: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                externalId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The config as above, encrypted (AES-CFB with MF_BOOTSTRAP_ENCRYPT_KEY: IV, then ciphertext); labelled application/json as in Mainflux */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    fetchBootstrapConfigSealed: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                externalId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description nonce (12 bytes) ‖ AES-256-GCM ciphertext of the config JSON exactly as the plain fetch answers it ‖ tag (16 bytes). Key: HKDF-SHA256 of the external key (UTF-8), salt the external id (UTF-8), info "tethys bootstrap v1", 32 bytes; additional authenticated data: the external id (UTF-8) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/octet-stream": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getProvisionContent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The layout's [bootstrap.content], or null */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    } | null;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    provisionGateway: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the request safe to retry: a retry with the same key and the same request within 24 h gets the first answer again (status, headers, body) and changes nothing; the key with another request is refused 422, a retry while the first runs 409. Keys are per user. A string of 1 to 255 visible ASCII characters, quoted (`"…"`, the draft's form) or bare; anything else is refused 400.
                 * @example "8e03978e-40d5-43e8-bc93-6894a57f9324"
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    external_id?: string | null;
                    external_key?: string | null;
                    name?: string | null;
                    layout?: string | null;
                    parameters?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description What was provisioned (the seed document's shape) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        things: {
                            id: string;
                            name?: string;
                            key: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                        channels: {
                            id: string;
                            name?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                        /** @description client certificates, PEM, by thing id (left out when empty) */
                        client_cert?: {
                            [key: string]: string;
                        };
                        /** @description their private keys, PEM, by thing id (left out when empty) */
                        client_key?: {
                            [key: string]: string;
                        };
                        /** @description the issuing CA, PEM */
                        ca_cert?: string;
                        /** @description things whose config is active, by thing id (left out when empty) */
                        whitelisted?: {
                            [key: string]: boolean;
                        };
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listLayouts: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of layouts: `default` first, then yours by name */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        layouts: {
                            name: string;
                            /** @description the layout's TOML (the server's without its [server] section) */
                            toml: string;
                            /** @description the parameters it declares, by name */
                            parameters: {
                                name: string;
                                type: "string" | "integer" | "boolean";
                                required: boolean;
                                /** @description used when a request gives none; null: the type's zero value */
                                default: string | number | boolean | null;
                                /** @description strings only */
                                pattern: string | null;
                                /** @description a self-enrolling device may set it */
                                device: boolean;
                            }[];
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createLayout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "sensor-v2",
                 *       "toml": "[parameters.site]\ntype = \"string\"\nrequired = true\npattern = \"^[a-z0-9-]{1,32}$\"\n\n[[things]]\nname = \"{{site}}-gateway\"\n[things.metadata]\nexternal_id = \"x\"\nsite = \"{{site}}\"\n\n[[channels]]\nname = \"{{site}}-control\"\nmetadata = { type = \"control\" }\n\n[[channels]]\nname = \"{{site}}-data\"\nmetadata = { type = \"data\" }\n"
                 *     }
                 */
                "application/json": {
                    /** @description 1 to 64 of a-z, 0-9, '.', '_', '-'; not default */
                    name: string;
                    /** @description the layout, as the server reads MF_PROVISION_CONFIG_FILE */
                    toml: string;
                };
            };
        };
        responses: {
            /** @description A named layout */
            201: {
                headers: {
                    /** @description /layouts/<name> */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        /** @description the layout's TOML (the server's without its [server] section) */
                        toml: string;
                        /** @description the parameters it declares, by name */
                        parameters: {
                            name: string;
                            type: "string" | "integer" | "boolean";
                            required: boolean;
                            /** @description used when a request gives none; null: the type's zero value */
                            default: string | number | boolean | null;
                            /** @description strings only */
                            pattern: string | null;
                            /** @description a self-enrolling device may set it */
                            device: boolean;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getLayout: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the layout's name, or default */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A named layout */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        /** @description the layout's TOML (the server's without its [server] section) */
                        toml: string;
                        /** @description the parameters it declares, by name */
                        parameters: {
                            name: string;
                            type: "string" | "integer" | "boolean";
                            required: boolean;
                            /** @description used when a request gives none; null: the type's zero value */
                            default: string | number | boolean | null;
                            /** @description strings only */
                            pattern: string | null;
                            /** @description a self-enrolling device may set it */
                            device: boolean;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateLayout: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the layout's name, or default */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "toml": "[parameters.site]\ntype = \"string\"\nrequired = true\npattern = \"^[a-z0-9-]{1,32}$\"\n\n[[things]]\nname = \"{{site}}-gateway\"\n[things.metadata]\nexternal_id = \"x\"\nsite = \"{{site}}\"\n\n[[channels]]\nname = \"{{site}}-control\"\nmetadata = { type = \"control\" }\n\n[[channels]]\nname = \"{{site}}-data\"\nmetadata = { type = \"data\" }\n"
                 *     }
                 */
                "application/json": {
                    toml: string;
                };
            };
        };
        responses: {
            /** @description A named layout */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        /** @description the layout's TOML (the server's without its [server] section) */
                        toml: string;
                        /** @description the parameters it declares, by name */
                        parameters: {
                            name: string;
                            type: "string" | "integer" | "boolean";
                            required: boolean;
                            /** @description used when a request gives none; null: the type's zero value */
                            default: string | number | boolean | null;
                            /** @description strings only */
                            pattern: string | null;
                            /** @description a self-enrolling device may set it */
                            device: boolean;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    removeLayout: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description the layout's name, or default */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listEnrollments: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of enrollment groups */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        enrollments: {
                            id: string;
                            name: string;
                            /** @enum {string} */
                            attestation: "symmetric_key" | "x509";
                            /** @description 32 random bytes, base64 */
                            group_key?: string;
                            /** @description x509: the CA device certificates chain to (PEM) */
                            ca_cert?: string;
                            layout: string;
                            /** @description free-form JSON object */
                            parameters: {
                                [key: string]: unknown;
                            };
                            /** @description '' lets every registration id in */
                            registration_id_pattern: string;
                            /** @description null: no limit */
                            max_devices: number | null;
                            certificate?: {
                                key_type: string;
                                key_bits: number;
                                valid: string;
                            };
                            enabled: boolean;
                            /** @description devices registered now */
                            registered: number;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createEnrollment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "line-3",
                 *       "attestation": "symmetric_key",
                 *       "layout": "sensor-v2",
                 *       "parameters": {
                 *         "site": "plant-a"
                 *       },
                 *       "registration_id_pattern": "^SN[0-9]{8}$",
                 *       "max_devices": 10000,
                 *       "certificate": {
                 *         "key_type": "ec",
                 *         "key_bits": 256,
                 *         "valid": "8760h"
                 *       }
                 *     }
                 */
                "application/json": {
                    name: string;
                    /** @enum {string} */
                    attestation: "symmetric_key" | "x509";
                    ca_cert?: string | null;
                    layout?: string | null;
                    parameters?: {
                        [key: string]: unknown;
                    } | null;
                    registration_id_pattern?: string | null;
                    max_devices?: number | null;
                    certificate?: {
                        key_type?: string | null;
                        key_bits?: number | null;
                        valid?: string | null;
                    } | null;
                    enabled?: boolean | null;
                };
            };
        };
        responses: {
            /** @description An enrollment group (group_key: symmetric_key groups, shown to the owner) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        name: string;
                        /** @enum {string} */
                        attestation: "symmetric_key" | "x509";
                        /** @description 32 random bytes, base64 */
                        group_key?: string;
                        /** @description x509: the CA device certificates chain to (PEM) */
                        ca_cert?: string;
                        layout: string;
                        /** @description free-form JSON object */
                        parameters: {
                            [key: string]: unknown;
                        };
                        /** @description '' lets every registration id in */
                        registration_id_pattern: string;
                        /** @description null: no limit */
                        max_devices: number | null;
                        certificate?: {
                            key_type: string;
                            key_bits: number;
                            valid: string;
                        };
                        enabled: boolean;
                        /** @description devices registered now */
                        registered: number;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getEnrollment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An enrollment group (group_key: symmetric_key groups, shown to the owner) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        name: string;
                        /** @enum {string} */
                        attestation: "symmetric_key" | "x509";
                        /** @description 32 random bytes, base64 */
                        group_key?: string;
                        /** @description x509: the CA device certificates chain to (PEM) */
                        ca_cert?: string;
                        layout: string;
                        /** @description free-form JSON object */
                        parameters: {
                            [key: string]: unknown;
                        };
                        /** @description '' lets every registration id in */
                        registration_id_pattern: string;
                        /** @description null: no limit */
                        max_devices: number | null;
                        certificate?: {
                            key_type: string;
                            key_bits: number;
                            valid: string;
                        };
                        enabled: boolean;
                        /** @description devices registered now */
                        registered: number;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    removeEnrollment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateEnrollment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    enabled?: boolean | null;
                    max_devices?: number | null;
                    parameters?: {
                        [key: string]: unknown;
                    } | null;
                    registration_id_pattern?: string | null;
                };
            };
        };
        responses: {
            /** @description An enrollment group (group_key: symmetric_key groups, shown to the owner) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        name: string;
                        /** @enum {string} */
                        attestation: "symmetric_key" | "x509";
                        /** @description 32 random bytes, base64 */
                        group_key?: string;
                        /** @description x509: the CA device certificates chain to (PEM) */
                        ca_cert?: string;
                        layout: string;
                        /** @description free-form JSON object */
                        parameters: {
                            [key: string]: unknown;
                        };
                        /** @description '' lets every registration id in */
                        registration_id_pattern: string;
                        /** @description null: no limit */
                        max_devices: number | null;
                        certificate?: {
                            key_type: string;
                            key_bits: number;
                            valid: string;
                        };
                        enabled: boolean;
                        /** @description devices registered now */
                        registered: number;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    rotateEnrollmentKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new key */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        group_key: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listRegistrations: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of a group's devices */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        registrations: {
                            registration_id: string;
                            thing_id: string;
                            /** Format: date-time */
                            first_enrolled: string;
                            /** Format: date-time */
                            last_enrolled: string;
                            /** @description registrations so far */
                            count: number;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    registerDevice: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the request safe to retry: a retry with the same key and the same request within 24 h gets the first answer again (status, headers, body) and changes nothing; the key with another request is refused 422, a retry while the first runs 409. Keys are per user. A string of 1 to 255 visible ASCII characters, quoted (`"…"`, the draft's form) or bare; anything else is refused 400.
                 * @example "8e03978e-40d5-43e8-bc93-6894a57f9324"
                 */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "registration_id": "SN00000042",
                 *       "csr": "-----BEGIN CERTIFICATE REQUEST-----…"
                 *     }
                 */
                "application/json": {
                    registration_id: string;
                    csr?: string | null;
                    parameters?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Registered before: the same thing */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        registration_id: string;
                        thing_id: string;
                        thing_key: string;
                        channels: {
                            id: string;
                            name?: string;
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                        }[];
                        /** @description What a gateway receives (the Mainflux Agent's format) */
                        bootstrap: {
                            mainflux_id: string;
                            mainflux_key: string;
                            mainflux_channels: {
                                id: string;
                                name?: string;
                                metadata: {
                                    [key: string]: unknown;
                                } | null;
                            }[] | null;
                            content?: string;
                            client_cert?: string;
                            client_key?: string;
                            ca_cert?: string;
                        };
                        /** @description The certificate made for the device */
                        certificate?: {
                            /** @description PEM */
                            client_cert: string;
                            /** @description PEM; only when the server made the key (no CSR) */
                            client_key?: string;
                            /** @description PEM */
                            issuing_ca: string;
                            serial: string;
                            /** Format: date-time */
                            expire: string;
                        };
                    };
                };
            };
            /** @description Registered now: a new thing */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        registration_id: string;
                        thing_id: string;
                        thing_key: string;
                        channels: {
                            id: string;
                            name?: string;
                            metadata: {
                                [key: string]: unknown;
                            } | null;
                        }[];
                        /** @description What a gateway receives (the Mainflux Agent's format) */
                        bootstrap: {
                            mainflux_id: string;
                            mainflux_key: string;
                            mainflux_channels: {
                                id: string;
                                name?: string;
                                metadata: {
                                    [key: string]: unknown;
                                } | null;
                            }[] | null;
                            content?: string;
                            client_cert?: string;
                            client_key?: string;
                            ca_cert?: string;
                        };
                        /** @description The certificate made for the device */
                        certificate?: {
                            /** @description PEM */
                            client_cert: string;
                            /** @description PEM; only when the server made the key (no CSR) */
                            client_key?: string;
                            /** @description PEM */
                            issuing_ca: string;
                            serial: string;
                            /** Format: date-time */
                            expire: string;
                        };
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listUsers: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10 */
                limit?: string;
                /** @description substring */
                email?: string;
                /** @description JSON object to contain */
                metadata?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of users */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        users: {
                            id: string;
                            email: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateUser: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    registerUser: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "ops@example.com",
                 *       "password": "a long password"
                 *     }
                 */
                "application/json": {
                    email: string;
                    password: string;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description User registered */
            201: {
                headers: {
                    /** @description the new user */
                    Location?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "ops@example.com",
                 *       "password": "a long password"
                 *     }
                 */
                "application/json": {
                    email: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description The login token (use it as Authorization) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getProfile: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A user (metadata left out when empty; never the password) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        email: string;
                        /** @description free-form JSON object */
                        metadata?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A user (metadata left out when empty; never the password) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        email: string;
                        /** @description free-form JSON object */
                        metadata?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    changePassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    old_password?: string | null;
                    password?: string | null;
                };
            };
        };
        responses: {
            /** @description Changed: `{}` */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    requestPasswordReset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    email?: string | null;
                };
            };
        };
        responses: {
            /** @description The mail is sent */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        msg: "Email with reset link is sent";
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    resetPassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token?: string | null;
                    password?: string | null;
                    confirm_password?: string | null;
                };
            };
        };
        responses: {
            /** @description Password set: `{}` */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    issueKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    type?: number | null;
                    duration?: number | null;
                };
            };
        };
        responses: {
            /** @description The issued key: `value` is the token to use as Authorization; a login key (type 0) has no `id`, a key that never expires no `expires_at` */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id?: string;
                        value: string;
                        /**
                         * Format: date-time
                         * @description when it was issued
                         */
                        issued_at: string;
                        /**
                         * Format: date-time
                         * @description when it expires
                         */
                        expires_at?: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                keyId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description An API key (without its value; `expires_at` left out when it never expires) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        issuer_id: string;
                        /** @description the issuer's email */
                        subject: string;
                        /** @description 2: API key */
                        type: number;
                        /**
                         * Format: date-time
                         * @description when it was issued
                         */
                        issued_at: string;
                        /**
                         * Format: date-time
                         * @description when it expires
                         */
                        expires_at?: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    revokeKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                keyId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked (also when there was nothing to revoke) */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listGroups: {
        parameters: {
            query?: {
                /** @description 1..5, default 1 */
                level?: string;
                /** @description true: nest children */
                tree?: "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False";
                /** @description JSON object the group metadata must contain */
                metadata?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The groups */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        level: number;
                        /** @description always '' */
                        name: string;
                        groups: {
                            /** @description ULID */
                            id: string;
                            name: string;
                            owner_id: string;
                            parent_id?: string;
                            description?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                            /** @description a root is level 1 */
                            level: number;
                            /** @description ancestor ids and its own, joined by `.` */
                            path: string;
                            children?: {
                                /** @description ULID */
                                id: string;
                                name: string;
                                owner_id: string;
                                parent_id?: string;
                                description?: string;
                                /** @description free-form JSON object */
                                metadata?: {
                                    [key: string]: unknown;
                                };
                                /** @description a root is level 1 */
                                level: number;
                                /** @description ancestor ids and its own, joined by `.` */
                                path: string;
                                children?: {
                                    /** @description ULID */
                                    id: string;
                                    name: string;
                                    owner_id: string;
                                    parent_id?: string;
                                    description?: string;
                                    /** @description free-form JSON object */
                                    metadata?: {
                                        [key: string]: unknown;
                                    };
                                    /** @description a root is level 1 */
                                    level: number;
                                    /** @description ancestor ids and its own, joined by `.` */
                                    path: string;
                                    children?: {
                                        /** @description ULID */
                                        id: string;
                                        name: string;
                                        owner_id: string;
                                        parent_id?: string;
                                        description?: string;
                                        /** @description free-form JSON object */
                                        metadata?: {
                                            [key: string]: unknown;
                                        };
                                        /** @description a root is level 1 */
                                        level: number;
                                        /** @description ancestor ids and its own, joined by `.` */
                                        path: string;
                                        children?: {
                                            /** @description ULID */
                                            id: string;
                                            name: string;
                                            owner_id: string;
                                            parent_id?: string;
                                            description?: string;
                                            /** @description free-form JSON object */
                                            metadata?: {
                                                [key: string]: unknown;
                                            };
                                            /** @description a root is level 1 */
                                            level: number;
                                            /** @description ancestor ids and its own, joined by `.` */
                                            path: string;
                                            /** Format: date-time */
                                            created_at: string;
                                            /** Format: date-time */
                                            updated_at: string;
                                        }[];
                                        /** Format: date-time */
                                        created_at: string;
                                        /** Format: date-time */
                                        updated_at: string;
                                    }[];
                                    /** Format: date-time */
                                    created_at: string;
                                    /** Format: date-time */
                                    updated_at: string;
                                }[];
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createGroup: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string | null;
                    description?: string | null;
                    parent_id?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Group created */
            201: {
                headers: {
                    /** @description the new group */
                    Location?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getGroup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A group (parent_id, description and metadata left out when empty) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description ULID */
                        id: string;
                        name: string;
                        owner_id: string;
                        parent_id?: string;
                        description?: string;
                        /** @description free-form JSON object */
                        metadata?: {
                            [key: string]: unknown;
                        };
                        /** @description a root is level 1 */
                        level: number;
                        /** @description ancestor ids and its own, joined by `.` */
                        path: string;
                        /** Format: date-time */
                        created_at: string;
                        /** Format: date-time */
                        updated_at: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateGroup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string | null;
                    description?: string | null;
                    parent_id?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Updated */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    removeGroup: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listGroupChildren: {
        parameters: {
            query?: {
                /** @description 1..5, default 1 */
                level?: string;
                /** @description true: nest children */
                tree?: "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False";
                /** @description JSON object the group metadata must contain */
                metadata?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The groups */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        level: number;
                        /** @description always '' */
                        name: string;
                        groups: {
                            /** @description ULID */
                            id: string;
                            name: string;
                            owner_id: string;
                            parent_id?: string;
                            description?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                            /** @description a root is level 1 */
                            level: number;
                            /** @description ancestor ids and its own, joined by `.` */
                            path: string;
                            children?: {
                                /** @description ULID */
                                id: string;
                                name: string;
                                owner_id: string;
                                parent_id?: string;
                                description?: string;
                                /** @description free-form JSON object */
                                metadata?: {
                                    [key: string]: unknown;
                                };
                                /** @description a root is level 1 */
                                level: number;
                                /** @description ancestor ids and its own, joined by `.` */
                                path: string;
                                children?: {
                                    /** @description ULID */
                                    id: string;
                                    name: string;
                                    owner_id: string;
                                    parent_id?: string;
                                    description?: string;
                                    /** @description free-form JSON object */
                                    metadata?: {
                                        [key: string]: unknown;
                                    };
                                    /** @description a root is level 1 */
                                    level: number;
                                    /** @description ancestor ids and its own, joined by `.` */
                                    path: string;
                                    children?: {
                                        /** @description ULID */
                                        id: string;
                                        name: string;
                                        owner_id: string;
                                        parent_id?: string;
                                        description?: string;
                                        /** @description free-form JSON object */
                                        metadata?: {
                                            [key: string]: unknown;
                                        };
                                        /** @description a root is level 1 */
                                        level: number;
                                        /** @description ancestor ids and its own, joined by `.` */
                                        path: string;
                                        children?: {
                                            /** @description ULID */
                                            id: string;
                                            name: string;
                                            owner_id: string;
                                            parent_id?: string;
                                            description?: string;
                                            /** @description free-form JSON object */
                                            metadata?: {
                                                [key: string]: unknown;
                                            };
                                            /** @description a root is level 1 */
                                            level: number;
                                            /** @description ancestor ids and its own, joined by `.` */
                                            path: string;
                                            /** Format: date-time */
                                            created_at: string;
                                            /** Format: date-time */
                                            updated_at: string;
                                        }[];
                                        /** Format: date-time */
                                        created_at: string;
                                        /** Format: date-time */
                                        updated_at: string;
                                    }[];
                                    /** Format: date-time */
                                    created_at: string;
                                    /** Format: date-time */
                                    updated_at: string;
                                }[];
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listGroupParents: {
        parameters: {
            query?: {
                /** @description 1..5, default 1 */
                level?: string;
                /** @description true: nest children */
                tree?: "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False";
                /** @description JSON object the group metadata must contain */
                metadata?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The groups */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        level: number;
                        /** @description always '' */
                        name: string;
                        groups: {
                            /** @description ULID */
                            id: string;
                            name: string;
                            owner_id: string;
                            parent_id?: string;
                            description?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                            /** @description a root is level 1 */
                            level: number;
                            /** @description ancestor ids and its own, joined by `.` */
                            path: string;
                            children?: {
                                /** @description ULID */
                                id: string;
                                name: string;
                                owner_id: string;
                                parent_id?: string;
                                description?: string;
                                /** @description free-form JSON object */
                                metadata?: {
                                    [key: string]: unknown;
                                };
                                /** @description a root is level 1 */
                                level: number;
                                /** @description ancestor ids and its own, joined by `.` */
                                path: string;
                                children?: {
                                    /** @description ULID */
                                    id: string;
                                    name: string;
                                    owner_id: string;
                                    parent_id?: string;
                                    description?: string;
                                    /** @description free-form JSON object */
                                    metadata?: {
                                        [key: string]: unknown;
                                    };
                                    /** @description a root is level 1 */
                                    level: number;
                                    /** @description ancestor ids and its own, joined by `.` */
                                    path: string;
                                    children?: {
                                        /** @description ULID */
                                        id: string;
                                        name: string;
                                        owner_id: string;
                                        parent_id?: string;
                                        description?: string;
                                        /** @description free-form JSON object */
                                        metadata?: {
                                            [key: string]: unknown;
                                        };
                                        /** @description a root is level 1 */
                                        level: number;
                                        /** @description ancestor ids and its own, joined by `.` */
                                        path: string;
                                        children?: {
                                            /** @description ULID */
                                            id: string;
                                            name: string;
                                            owner_id: string;
                                            parent_id?: string;
                                            description?: string;
                                            /** @description free-form JSON object */
                                            metadata?: {
                                                [key: string]: unknown;
                                            };
                                            /** @description a root is level 1 */
                                            level: number;
                                            /** @description ancestor ids and its own, joined by `.` */
                                            path: string;
                                            /** Format: date-time */
                                            created_at: string;
                                            /** Format: date-time */
                                            updated_at: string;
                                        }[];
                                        /** Format: date-time */
                                        created_at: string;
                                        /** Format: date-time */
                                        updated_at: string;
                                    }[];
                                    /** Format: date-time */
                                    created_at: string;
                                    /** Format: date-time */
                                    updated_at: string;
                                }[];
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listGroupMembers: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
                /** @description member type */
                type?: string;
                /** @description JSON object to contain */
                metadata?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A group's members (keys capitalised, as 0.12.1 emits them) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description 0 unless `type` is given */
                        total: number;
                        offset: number;
                        limit: number;
                        /** @description always 0 */
                        level: number;
                        /** @description always '' */
                        name: string;
                        Members: {
                            ID: string;
                            Type: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    assignGroupMembers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    type?: string | null;
                    members?: string[] | null;
                };
            };
        };
        responses: {
            /** @description Assigned */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    unassignGroupMembers: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    type?: string | null;
                    members?: string[] | null;
                };
            };
        };
        responses: {
            /** @description Unassigned */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listMemberships: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
                /** @description member type */
                type?: string;
                /** @description JSON object to contain */
                metadata?: string;
            };
            header?: never;
            path: {
                memberId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The groups the member is in */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        /** @description always 0 */
                        level: number;
                        /** @description always '' */
                        name: string;
                        groups: {
                            /** @description ULID */
                            id: string;
                            name: string;
                            owner_id: string;
                            parent_id?: string;
                            description?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                            /** @description a root is level 1 */
                            level: number;
                            /** @description ancestor ids and its own, joined by `.` */
                            path: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listGroupThings: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
                /** @description member type */
                type?: string;
                /** @description JSON object to contain */
                metadata?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of a group's things (order and direction always '') */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        /** @description 0 for an unknown group */
                        offset: number;
                        /** @description 0 for an unknown group */
                        limit: number;
                        order: string;
                        direction: string;
                        things: {
                            id: string;
                            name?: string;
                            key: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listGroupUsers: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
                /** @description member type */
                type?: string;
                /** @description JSON object to contain */
                metadata?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of users */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        users: {
                            id: string;
                            email: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listThings: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, at most 100 */
                limit?: string;
                /** @description case-insensitive substring of the name */
                name?: string;
                /** @description JSON object the metadata must contain, e.g. {"serial":"123"} */
                metadata?: string;
                /** @description name | id */
                order?: string;
                /** @description asc | desc (default desc) */
                dir?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of things */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        order: string;
                        direction: string;
                        things: {
                            id: string;
                            name?: string;
                            key: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createThing: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the request safe to retry: a retry with the same key and the same request within 24 h gets the first answer again (status, headers, body) and changes nothing; the key with another request is refused 422, a retry while the first runs 409. Keys are per user. A string of 1 to 255 visible ASCII characters, quoted (`"…"`, the draft's form) or bare; anything else is refused 400.
                 * @example "8e03978e-40d5-43e8-bc93-6894a57f9324"
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "sensor-1",
                 *       "metadata": {
                 *         "site": "north",
                 *         "serial": "123456"
                 *       }
                 *     }
                 */
                "application/json": {
                    name?: string | null;
                    key?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Thing created */
            201: {
                headers: {
                    /** @description the new thing */
                    Location?: string;
                    /** @description this endpoint is deprecated in favour of the bulk one */
                    "Warning-Deprecated"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createThings: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the request safe to retry: a retry with the same key and the same request within 24 h gets the first answer again (status, headers, body) and changes nothing; the key with another request is refused 422, a retry while the first runs 409. Keys are per user. A string of 1 to 255 visible ASCII characters, quoted (`"…"`, the draft's form) or bare; anything else is refused 400.
                 * @example "8e03978e-40d5-43e8-bc93-6894a57f9324"
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string | null;
                    key?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                }[];
            };
        };
        responses: {
            /** @description The things created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        things: {
                            id: string;
                            name?: string;
                            key: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getThing: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A thing (name and metadata left out when empty) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        name?: string;
                        key: string;
                        /** @description free-form JSON object */
                        metadata?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateThing: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "sensor-1",
                 *       "metadata": {
                 *         "site": "north",
                 *         "serial": "123456"
                 *       }
                 *     }
                 */
                "application/json": {
                    name?: string | null;
                    key?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    removeThing: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed (also when there was nothing to remove) */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateThingKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    key?: string | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    searchThings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    offset?: number | null;
                    limit?: number | null;
                    name?: string | null;
                    order?: string | null;
                    dir?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description A page of things */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        order: string;
                        direction: string;
                        things: {
                            id: string;
                            name?: string;
                            key: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listThingChannels: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
                /** @description name | id */
                order?: string;
                /** @description asc | desc */
                dir?: string;
                /** @description true: list the complement */
                disconnected?: "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False";
                /** @description false: list the complement (seed document spelling) */
                connected?: unknown;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of channels */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        order: string;
                        direction: string;
                        channels: {
                            id: string;
                            name?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listChannels: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, at most 100 */
                limit?: string;
                /** @description case-insensitive substring of the name */
                name?: string;
                /** @description JSON object the metadata must contain, e.g. {"serial":"123"} */
                metadata?: string;
                /** @description name | id */
                order?: string;
                /** @description asc | desc (default desc) */
                dir?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of channels */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        order: string;
                        direction: string;
                        channels: {
                            id: string;
                            name?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createChannel: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the request safe to retry: a retry with the same key and the same request within 24 h gets the first answer again (status, headers, body) and changes nothing; the key with another request is refused 422, a retry while the first runs 409. Keys are per user. A string of 1 to 255 visible ASCII characters, quoted (`"…"`, the draft's form) or bare; anything else is refused 400.
                 * @example "8e03978e-40d5-43e8-bc93-6894a57f9324"
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "telemetry",
                 *       "metadata": {
                 *         "type": "data"
                 *       }
                 *     }
                 */
                "application/json": {
                    name?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Channel created */
            201: {
                headers: {
                    /** @description the new channel */
                    Location?: string;
                    /** @description this endpoint is deprecated in favour of the bulk one */
                    "Warning-Deprecated"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    createChannels: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes the request safe to retry: a retry with the same key and the same request within 24 h gets the first answer again (status, headers, body) and changes nothing; the key with another request is refused 422, a retry while the first runs 409. Keys are per user. A string of 1 to 255 visible ASCII characters, quoted (`"…"`, the draft's form) or bare; anything else is refused 400.
                 * @example "8e03978e-40d5-43e8-bc93-6894a57f9324"
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    name?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                }[];
            };
        };
        responses: {
            /** @description The channels created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        channels: {
                            id: string;
                            name?: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getChannel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A channel (name and metadata left out when empty) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                        name?: string;
                        /** @description free-form JSON object */
                        metadata?: {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    updateChannel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "telemetry",
                 *       "metadata": {
                 *         "type": "data"
                 *       }
                 *     }
                 */
                "application/json": {
                    name?: string | null;
                    metadata?: {
                        [key: string]: unknown;
                    } | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    removeChannel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed (also when there was nothing to remove) */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listChannelThings: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
                /** @description name | id */
                order?: string;
                /** @description asc | desc */
                dir?: string;
                /** @description true: list the complement */
                disconnected?: "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False";
                /** @description false: list the complement (seed document spelling) */
                connected?: unknown;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of things */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        order: string;
                        direction: string;
                        things: {
                            id: string;
                            name?: string;
                            key: string;
                            /** @description free-form JSON object */
                            metadata?: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    connect: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "channel_ids": [
                 *         "3a0b0e16-0b1a-4b5f-9a8e-1c5d2f0e7a44"
                 *       ],
                 *       "thing_ids": [
                 *         "5b68df78-86f7-4c2b-8a5e-2e1bde5e4b6b"
                 *       ]
                 *     }
                 */
                "application/json": {
                    channel_ids?: string[] | null;
                    thing_ids?: string[] | null;
                };
            };
        };
        responses: {
            /** @description Done */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    connectThing: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
                thingId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Connected */
            200: {
                headers: {
                    /** @description this endpoint is deprecated in favour of the bulk one */
                    "Warning-Deprecated"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    disconnectThing: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
                thingId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Disconnected */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    identifyThing: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token?: string | null;
                };
            };
        };
        responses: {
            /** @description The thing */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    canAccessByKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    token?: string | null;
                };
            };
        };
        responses: {
            /** @description The thing */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        id: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    canAccessById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                chanId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    thing_id?: string | null;
                };
            };
        };
        responses: {
            /** @description It may */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listEvents: {
        parameters: {
            query?: {
                /** @description events about this entity (as the entity or the related one) */
                entity_id?: string;
                /** @description user, key, thing, channel, connection, group, bootstrap, cert, enrollment, registration, layout */
                entity_type?: string;
                /** @description an action (thing.create), or every action of a prefix ending in a dot (thing.) */
                action?: string;
                /** @description an actor, as events name it */
                actor?: string;
                /** @description only events at or after this time: RFC 3339 (2026-12-01T00:00:00Z) or milliseconds since 1970 */
                from?: string;
                /** @description only events before this time: RFC 3339 (2026-12-01T00:00:00Z) or milliseconds since 1970 */
                to?: string;
                /** @description only events after this event id, oldest first (what a follower has not seen yet) */
                after?: string;
                /** @description default 0 */
                offset?: string;
                /** @description default 10, at most 100 */
                limit?: string;
                /** @description desc (newest first, the default) or asc */
                dir?: "asc" | "desc";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of events, newest first unless dir=asc */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description how many events match the filters, counted up to 100,000 */
                        total: number;
                        /**
                         * @description present when more than 100,000 events match: total is then that many, a lower bound (narrow the filters for an exact count)
                         * @enum {boolean}
                         */
                        total_capped?: true;
                        events: {
                            /** @description time-ordered: later events have greater ids */
                            id: string;
                            /** @description when it was recorded (RFC 3339, UTC) */
                            time: string;
                            /** @description who: a user (email), `key:<API key id>`, `thing:<id>`, `enrollment:<group id>` (a device enrolling itself) or `system` */
                            actor: string;
                            /** @description the user the actor acts for (null for system) */
                            actor_user: string | null;
                            /** @description `<entity_type>.<verb>`: thing.create, connection.remove, cert.revoke… */
                            action: string;
                            entity_type: string;
                            entity_id: string;
                            /** @description the other entity it concerns: a connection's thing, a certificate's thing, a member */
                            related_id: string | null;
                            /** @description whose entity it is */
                            owner: string | null;
                            /** @description the client's address */
                            source: string | null;
                            /** @description the X-Request-Id the client sent, or the one the server gave its request */
                            request_id: string | null;
                            /** @description what changed (names, states, field names); never a key, password, token or private key */
                            details: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listThingEvents: {
        parameters: {
            query?: {
                /** @description an action (thing.create), or every action of a prefix ending in a dot (thing.) */
                action?: string;
                /** @description an actor, as events name it */
                actor?: string;
                /** @description only events at or after this time: RFC 3339 (2026-12-01T00:00:00Z) or milliseconds since 1970 */
                from?: string;
                /** @description only events before this time: RFC 3339 (2026-12-01T00:00:00Z) or milliseconds since 1970 */
                to?: string;
                /** @description only events after this event id, oldest first (what a follower has not seen yet) */
                after?: string;
                /** @description default 0 */
                offset?: string;
                /** @description default 10, at most 100 */
                limit?: string;
                /** @description desc (newest first, the default) or asc */
                dir?: "asc" | "desc";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of events, newest first unless dir=asc */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description how many events match the filters, counted up to 100,000 */
                        total: number;
                        /**
                         * @description present when more than 100,000 events match: total is then that many, a lower bound (narrow the filters for an exact count)
                         * @enum {boolean}
                         */
                        total_capped?: true;
                        events: {
                            /** @description time-ordered: later events have greater ids */
                            id: string;
                            /** @description when it was recorded (RFC 3339, UTC) */
                            time: string;
                            /** @description who: a user (email), `key:<API key id>`, `thing:<id>`, `enrollment:<group id>` (a device enrolling itself) or `system` */
                            actor: string;
                            /** @description the user the actor acts for (null for system) */
                            actor_user: string | null;
                            /** @description `<entity_type>.<verb>`: thing.create, connection.remove, cert.revoke… */
                            action: string;
                            entity_type: string;
                            entity_id: string;
                            /** @description the other entity it concerns: a connection's thing, a certificate's thing, a member */
                            related_id: string | null;
                            /** @description whose entity it is */
                            owner: string | null;
                            /** @description the client's address */
                            source: string | null;
                            /** @description the X-Request-Id the client sent, or the one the server gave its request */
                            request_id: string | null;
                            /** @description what changed (names, states, field names); never a key, password, token or private key */
                            details: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listChannelEvents: {
        parameters: {
            query?: {
                /** @description an action (thing.create), or every action of a prefix ending in a dot (thing.) */
                action?: string;
                /** @description an actor, as events name it */
                actor?: string;
                /** @description only events at or after this time: RFC 3339 (2026-12-01T00:00:00Z) or milliseconds since 1970 */
                from?: string;
                /** @description only events before this time: RFC 3339 (2026-12-01T00:00:00Z) or milliseconds since 1970 */
                to?: string;
                /** @description only events after this event id, oldest first (what a follower has not seen yet) */
                after?: string;
                /** @description default 0 */
                offset?: string;
                /** @description default 10, at most 100 */
                limit?: string;
                /** @description desc (newest first, the default) or asc */
                dir?: "asc" | "desc";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of events, newest first unless dir=asc */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description how many events match the filters, counted up to 100,000 */
                        total: number;
                        /**
                         * @description present when more than 100,000 events match: total is then that many, a lower bound (narrow the filters for an exact count)
                         * @enum {boolean}
                         */
                        total_capped?: true;
                        events: {
                            /** @description time-ordered: later events have greater ids */
                            id: string;
                            /** @description when it was recorded (RFC 3339, UTC) */
                            time: string;
                            /** @description who: a user (email), `key:<API key id>`, `thing:<id>`, `enrollment:<group id>` (a device enrolling itself) or `system` */
                            actor: string;
                            /** @description the user the actor acts for (null for system) */
                            actor_user: string | null;
                            /** @description `<entity_type>.<verb>`: thing.create, connection.remove, cert.revoke… */
                            action: string;
                            entity_type: string;
                            entity_id: string;
                            /** @description the other entity it concerns: a connection's thing, a certificate's thing, a member */
                            related_id: string | null;
                            /** @description whose entity it is */
                            owner: string | null;
                            /** @description the client's address */
                            source: string | null;
                            /** @description the X-Request-Id the client sent, or the one the server gave its request */
                            request_id: string | null;
                            /** @description what changed (names, states, field names); never a key, password, token or private key */
                            details: {
                                [key: string]: unknown;
                            };
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listExpiringCerts: {
        parameters: {
            query?: {
                /** @description a Go duration such as 720h: certificates expiring within it (absent: all valid ones) */
                expiring_within?: string;
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the thing's certificate records */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        certs: {
                            thing_id: string;
                            cert_serial: string;
                            key_type: string;
                            expire: string;
                            revoked?: boolean;
                            revocation_time?: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    issueCert: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "thing_id": "5b68df78-86f7-4c2b-8a5e-2e1bde5e4b6b",
                 *       "key_type": "ec",
                 *       "key_bits": 256,
                 *       "valid": "8760h"
                 *     }
                 */
                "application/json": {
                    thing_id?: string | null;
                    key_bits?: number | null;
                    rsa_bits?: number | null;
                    key_type?: string | null;
                    valid?: string | null;
                    csr?: string | null;
                };
            };
        };
        responses: {
            /** @description The certificate, under 0.12.1's, its SDK's and the seed document's names (no key fields for a CSR) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        thing_id: string;
                        cert: string;
                        cert_key?: string;
                        cert_serial: string;
                        ca_cert: string;
                        /** @description RFC 3339 */
                        expire: string;
                        client_cert: string;
                        client_key?: string;
                        issuing_ca: string;
                        ThingID: string;
                        ClientCert: string;
                        IssuingCA: string;
                        CAChain: string[];
                        ClientKey?: string;
                        PrivateKeyType?: string;
                        Serial: string;
                        Expire: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getCrl: {
        parameters: {
            query?: {
                /** @description pem (default) or der */
                format?: "pem" | "der";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The CRL */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-pem-file": string;
                    "application/pkix-crl": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    listCerts: {
        parameters: {
            query?: {
                /** @description default 0 */
                offset?: string;
                /** @description default 10, 1..100 */
                limit?: string;
            };
            header?: never;
            path: {
                thingId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the thing's certificate records */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        total: number;
                        offset: number;
                        limit: number;
                        certs: {
                            thing_id: string;
                            cert_serial: string;
                            key_type: string;
                            expire: string;
                            revoked?: boolean;
                            revocation_time?: string;
                        }[];
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    revokeCerts: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                thingId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description When the certificates were revoked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description RFC 3339 */
                        RevocationTime: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    revokeCertsByBody: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    thing_id?: string | null;
                };
            };
        };
        responses: {
            /** @description When the certificates were revoked */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description RFC 3339 */
                        RevocationTime: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    ocspPost: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/ocsp-request": string;
            };
        };
        responses: {
            /** @description A DER OCSPResponse: successful (a BasicOCSPResponse signed by the CA, each certificate good, revoked or unknown), malformedRequest, or tryLater (Vault has not certified the responder key yet) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/ocsp-response": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    ocspGet: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description base64 DER OCSPRequest, URL-encoded */
                request: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A DER OCSPResponse: successful (a BasicOCSPResponse signed by the CA, each certificate good, revoked or unknown), malformedRequest, or tryLater (Vault has not certified the responder key yet) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/ocsp-response": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    renewCert: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description cert_serial, any hex form */
                serial: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "key_type": "ec",
                 *       "key_bits": 256,
                 *       "valid": "8760h",
                 *       "revoke_old": true
                 *     }
                 */
                "application/json": {
                    csr?: string | null;
                    key_type?: string | null;
                    key_bits?: number | null;
                    valid?: string | null;
                    revoke_old?: boolean | null;
                };
            };
        };
        responses: {
            /** @description The certificate, under 0.12.1's, its SDK's and the seed document's names (no key fields for a CSR) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        thing_id: string;
                        cert: string;
                        cert_key?: string;
                        cert_serial: string;
                        ca_cert: string;
                        /** @description RFC 3339 */
                        expire: string;
                        client_cert: string;
                        client_key?: string;
                        issuing_ca: string;
                        ThingID: string;
                        ClientCert: string;
                        IssuingCA: string;
                        CAChain: string[];
                        ClientKey?: string;
                        PrivateKeyType?: string;
                        Serial: string;
                        Expire: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    renewOwnCert: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description PEM PKCS#10 request: its public key is certified, no private key is made */
                    csr: string;
                    valid?: string | null;
                    revoke_old?: boolean | null;
                };
            };
        };
        responses: {
            /** @description The certificate, under 0.12.1's, its SDK's and the seed document's names (no key fields for a CSR) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        thing_id: string;
                        cert: string;
                        cert_key?: string;
                        cert_serial: string;
                        ca_cert: string;
                        /** @description RFC 3339 */
                        expire: string;
                        client_cert: string;
                        client_key?: string;
                        issuing_ca: string;
                        ThingID: string;
                        ClientCert: string;
                        IssuingCA: string;
                        CAChain: string[];
                        ClientKey?: string;
                        PrivateKeyType?: string;
                        Serial: string;
                        Expire: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    estCaCerts: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The issuing CA */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/pkcs7-mime": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    estSimpleReenroll: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The new certificate */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/pkcs7-mime": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getVersion: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description {"service":"things","version":"0.12.1"} as text, as Mainflux serves it (X-Tethys-Version: ours) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Healthy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: "pass" | "fail";
                        version: string;
                        /** @description sqlite or postgres */
                        database: string;
                        /** @description in-process, connected or disconnected */
                        bus: string;
                        /** @description what fails */
                        error?: string;
                    };
                };
            };
            /** @description Unhealthy (with Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        status: "pass" | "fail";
                        version: string;
                        /** @description sqlite or postgres */
                        database: string;
                        /** @description in-process, connected or disconnected */
                        bus: string;
                        /** @description what fails */
                        error?: string;
                    };
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description Refused: `{"error": …}` (429 and some 4xx also with Retry-After) */
            "4XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
            /** @description A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}` */
            "5XX": {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: string;
                    };
                };
            };
        };
    };
}
